"""Application errors: access, existence, concurrency and idempotency."""


class ApplicationError(Exception):
    """A command or read the application refuses (not a domain rule)."""

    code = "application-error"
    title = "The request cannot be carried out"
    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ApplicationError):
    code = "not-found"
    title = "No such resource (or not yours to see)"
    status = 404


class AccessDeniedError(ApplicationError):
    code = "forbidden"
    title = "Your role does not allow this"
    status = 403


class PreconditionFailedError(ApplicationError):
    code = "version-mismatch"
    title = "The case is not at the version given in If-Match"
    status = 412


class ConcurrencyConflictError(ApplicationError):
    code = "concurrent-modification"
    title = "Other writers kept changing the case; re-read it and decide again"
    status = 409


class AlreadyExistsError(ApplicationError):
    code = "already-exists"
    title = "It exists already"
    status = 409


class IdempotencyKeyReusedError(ApplicationError):
    code = "idempotency-key-reused"
    title = "This Idempotency-Key was used with a different request"
    status = 422
