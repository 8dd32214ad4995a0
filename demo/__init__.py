"""The synthetic PDU: a generator of realistic case histories for demos, tests and benchmarks.

Its distributions follow HM Inspectorate of Probation's inspection of Sheffield PDU (see
profile.py). It uses the application as a frontend would (commands decided by the aggregate);
nothing in domain/, application/, projections/ or api/ may import it (import-linter enforces
that), apart from the CLI's `casetrail demo` entry point.
"""
