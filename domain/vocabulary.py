"""The codes casetrail speaks (docs/api.md, "Vocabularies"): one Enum per vocabulary.

Plain ``Enum`` (not ``StrEnum``) so that the event store's JSON transcoder round-trips
them as enum members through a registered transcoding, rather than as bare strings.
"""

from enum import Enum


class SentenceType(Enum):
    COMMUNITY_ORDER = "community_order"
    SUSPENDED_SENTENCE_ORDER = "suspended_sentence_order"
    LICENCE = "licence"
    POST_SENTENCE_SUPERVISION = "post_sentence_supervision"

    @property
    def is_order(self) -> bool:
        """Community and suspended sentence orders: breach applies, recall does not."""
        return self in (SentenceType.COMMUNITY_ORDER, SentenceType.SUSPENDED_SENTENCE_ORDER)


class Grade(Enum):
    PO = "PO"
    PSO = "PSO"
    PQIP = "PQIP"
    SPO = "SPO"


class OffenceFlag(Enum):
    DOMESTIC_ABUSE = "domestic_abuse"
    SEXUAL = "sexual"
    RACIALLY_AGGRAVATED = "racially_aggravated"
    VIOLENCE = "violence"
    WEAPONS = "weapons"
    STALKING = "stalking"


class ReportType(Enum):
    STANDARD = "standard"
    SHORT_FORMAT = "short_format"
    ORAL = "oral"


class Agency(Enum):
    POLICE_DOMESTIC_ABUSE = "police_domestic_abuse"
    POLICE_INTELLIGENCE = "police_intelligence"
    CHILDRENS_SERVICES = "childrens_services"


class EnquiryStage(Enum):
    COURT = "court"
    ASSESSMENT = "assessment"
    REVIEW = "review"


class RoSH(Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"

    @property
    def is_high(self) -> bool:
        return self in (RoSH.HIGH, RoSH.VERY_HIGH)


class RiskGroup(Enum):
    PUBLIC = "public"
    KNOWN_ADULT = "known_adult"
    CHILDREN = "children"
    STAFF = "staff"
    PRISONERS = "prisoners"


class Need(Enum):
    ACC = "ACC"
    ETE = "ETE"
    FBD = "FBD"
    PWB = "PWB"
    DNR = "DNR"
    WOS = "WOS"


class Service(Enum):
    ACC = "ACC"
    ETE = "ETE"
    FBD = "FBD"
    PWB = "PWB"
    DNR = "DNR"
    WOS = "WOS"
    ACCREDITED_PROGRAMME = "accredited_programme"


class Source(Enum):
    POLICE = "police"
    CHILDRENS_SERVICES = "childrens_services"
    ADULT_SOCIAL_CARE = "adult_social_care"
    HEALTH = "health"
    PRISON = "prison"
    PREVIOUS_CONVICTIONS = "previous_convictions"


class RegistrationCode(Enum):
    ADVP = "ADVP"
    RCCO = "RCCO"
    RCPR = "RCPR"
    RCHD = "RCHD"
    ALSH = "ALSH"
    RVAD = "RVAD"
    AV2S = "AV2S"
    MAPP = "MAPP"
    STRG = "STRG"
    WEAP = "WEAP"
    ASFO = "ASFO"


class AppointmentType(Enum):
    COAI = "COAI"
    COAP = "COAP"
    COHV = "COHV"
    CHVS = "CHVS"
    COPT = "COPT"
    COVC = "COVC"
    CODC = "CODC"
    COOO = "COOO"
    C084 = "C084"


class Outcome(Enum):
    ATTC = "ATTC"
    AFTC = "AFTC"
    UAAB = "UAAB"
    AFTA = "AFTA"
    AACL = "AACL"
    AAEM = "AAEM"
    AAFC = "AAFC"
    AAHO = "AAHO"
    AAME = "AAME"
    AARE = "AARE"

    @property
    def is_failure(self) -> bool:
        """An unacceptable failure: it needs an enforcement decision."""
        return self in (Outcome.UAAB, Outcome.AFTA, Outcome.AFTC)

    @property
    def is_attended(self) -> bool:
        return self in (Outcome.ATTC, Outcome.AFTC)

    @property
    def is_acceptable_absence(self) -> bool:
        return self.value.startswith("AA")


class EnforcementAction(Enum):
    EA02 = "EA02"
    EA03 = "EA03"
    EA08 = "EA08"
    NFA = "NFA"
    IBR = "IBR"
    BRE = "BRE"
    EA11 = "EA11"


class RecallDecision(Enum):
    STANDARD = "standard"
    FIXED_TERM = "fixed_term"
    EMERGENCY = "emergency"
    NO_RECALL = "no_recall"


class RecallReason(Enum):
    RISK_INCREASED = "risk_increased"
    CONTACT_STOPPED = "contact_stopped"
    LICENCE_CONDITION_BREACHED = "licence_condition_breached"
    FURTHER_OFFENCE = "further_offence"


class ReferralOutcome(Enum):
    STARTED = "started"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    TERMINATED = "terminated"

    @property
    def is_final(self) -> bool:
        return self is not ReferralOutcome.STARTED


class SignificantEventKind(Enum):
    ARREST = "arrest"
    FURTHER_OFFENCE_CHARGED = "further_offence_charged"
    CHANGE_OF_ADDRESS = "change_of_address"
    RELATIONSHIP_CHANGE = "relationship_change"
    LICENCE_CONDITION_BREACHED = "licence_condition_breached"


class OversightKind(Enum):
    ALLOCATION = "allocation"
    RISK = "risk"
    MAPPA_LEVEL1_REVIEW = "mappa_level1_review"
    ENFORCEMENT = "enforcement"
    RECALL = "recall"
    ROUTINE = "routine"


class TerminationReason(Enum):
    COMPLETED = "completed"
    REVOKED = "revoked"
    BREACHED = "breached"
    DIED = "died"
    OTHER = "other"


ALL_VOCABULARIES: tuple[type[Enum], ...] = (
    SentenceType,
    Grade,
    OffenceFlag,
    ReportType,
    Agency,
    EnquiryStage,
    RoSH,
    RiskGroup,
    Need,
    Service,
    Source,
    RegistrationCode,
    AppointmentType,
    Outcome,
    EnforcementAction,
    RecallDecision,
    RecallReason,
    ReferralOutcome,
    SignificantEventKind,
    OversightKind,
    TerminationReason,
)


class EthnicGroup(Enum):
    """The ONS 2021 high-level ethnic groups."""

    ASIAN = "asian"
    BLACK = "black"
    MIXED = "mixed"
    WHITE = "white"
    OTHER = "other"
    NOT_STATED = "not_stated"


class Sex(Enum):
    FEMALE = "female"
    MALE = "male"
    NOT_STATED = "not_stated"


class Disability(Enum):
    YES = "yes"
    NO = "no"
    NOT_STATED = "not_stated"
