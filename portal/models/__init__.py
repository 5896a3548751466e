"""All models, imported here so metadata and Alembic see every table."""
from .adoption import (
    Agreement,
    AgreementConfirmation,
    AgreementSide,
    AgreementStatus,
    Department,
    DepartmentInvitation,
    DepartmentMember,
    GoalKind,
    ProjectGoal,
    ProposalDepartment,
)
from .adoption_work import (
    ChangeRequest,
    ProjectDocument,
    ProjectFunding,
    ProjectReminder,
    ProjectReport,
    ReportLine,
    ReportProgress,
    ReportReceipt,
)
from .base import Base, utcnow
from .evaluation import (
    EvaluationPublication,
    EvaluationSettings,
    MutualEvaluation,
    ProjectEvaluation,
    ProposalContinuation,
)
from .call import Call, CallChange, Criterion
from .comment_check import CommentCheck
from .files import FILE_PURPOSE_LABELS, FilePurpose, StoredFile
from . import guards  # noqa: F401  (registers the flush guards)
from .group import ACTIVITY_FIELDS, GROUP_KIND_LABELS, Group, GroupKind
from .jobs import JOB_STATUS_LABELS, Job, JobStatus
from .log import LogEntry, Publication
from .mail import OutboxMessage
from .meeting import ChairNote, Meeting, PresentationSchedule, PresentationSlot
from .notice import Notice, NoticeCounter
from .proposal import (
    COLLABORATION_FORM_LABELS,
    STATUS_LABELS,
    BudgetKind,
    BudgetLine,
    CollaborationForm,
    Declaration,
    Proposal,
    ProposalStatus,
    RoleShare,
    StatusEvent,
    Submission,
)
from .review import (
    BLOCKING_CONFLICT_STATUSES,
    FEASIBILITY_LABELS,
    STAGE_LABELS,
    Assignment,
    AssignmentStatus,
    Conflict,
    ConflictSource,
    ConflictStatus,
    Decision,
    DecisionOutcome,
    DepartmentOpinion,
    ExtraTerm,
    FindingStatus,
    IntakeDecision,
    IntakeOutcome,
    PanelMember,
    RedactionFinding,
    ReviewAttachment,
    ReviewCopy,
    ReviewScore,
    ReviewSheet,
    ScoreReopen,
    SheetStatus,
    Stage,
)
from .user import Invitation, LoginSession, LoginThrottle, RecoveryCode, Role, User

__all__ = [
    "JOB_STATUS_LABELS",
    "Job",
    "JobStatus",
    "ACTIVITY_FIELDS", "COLLABORATION_FORM_LABELS", "FILE_PURPOSE_LABELS", "GROUP_KIND_LABELS",
    "STATUS_LABELS", "Base", "BudgetKind", "BudgetLine", "Call", "CollaborationForm", "Criterion",
    "Declaration", "FilePurpose", "Group", "GroupKind", "LoginSession", "LoginThrottle", "OutboxMessage",
    "Proposal", "ProposalStatus", "Role", "RoleShare", "StatusEvent", "StoredFile", "Submission", "User",
    "utcnow", "CallChange", "LogEntry", "Publication", "FEASIBILITY_LABELS", "STAGE_LABELS", "Assignment",
    "AssignmentStatus", "Conflict", "ConflictSource", "ConflictStatus", "Decision", "DecisionOutcome",
    "DepartmentOpinion", "ExtraTerm", "FindingStatus", "IntakeDecision", "IntakeOutcome", "PanelMember",
    "RedactionFinding", "ReviewAttachment", "ReviewCopy", "ReviewScore", "ReviewSheet", "ScoreReopen",
    "SheetStatus", "Stage", "Invitation", "RecoveryCode", "BLOCKING_CONFLICT_STATUSES",
    "Agreement", "AgreementConfirmation", "AgreementSide", "AgreementStatus", "Department",
    "DepartmentInvitation", "DepartmentMember", "ProposalDepartment", "CommentCheck", "GoalKind", "ProjectGoal",
    "ChangeRequest", "ProjectDocument", "ProjectFunding", "ProjectReminder", "ProjectReport", "ReportLine",
    "ReportProgress", "ReportReceipt",
    "EvaluationPublication", "EvaluationSettings", "MutualEvaluation", "ProjectEvaluation", "ProposalContinuation",
    "ChairNote", "Meeting", "PresentationSchedule", "PresentationSlot",
    "Notice", "NoticeCounter",
]
