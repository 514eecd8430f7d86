"""Request and response bodies of the field-reports API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from cityops.modules.field_reports.choices import Urgency

CODE_PATTERN = r"^[A-Za-z0-9_.\-]{1,32}$"
ReasonText = Annotated[str, Field(min_length=3, max_length=2000)]


# --- categories ----------------------------------------------------------------------------


class AttributeValue(BaseModel):
    """One choice of a list attribute (Open311 `values[]`)."""

    key: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)


class CategoryAttribute(BaseModel):
    """An extra question of a category (an Open311 service-definition attribute)."""

    variable: bool = True
    code: str = Field(pattern=CODE_PATTERN)
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool = False
    datatype_description: str | None = None
    order: int | None = None
    description: str = Field(min_length=1, max_length=500)
    values: list[AttributeValue] | None = None


class CategoryBase(BaseModel):
    """Fields every category has."""

    code: str = Field(pattern=CODE_PATTERN, description="Open311 service_code, e.g. PA-DUONG")
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    description: str | None = None
    description_en: str | None = None
    group: str | None = Field(None, max_length=100)
    group_en: str | None = Field(None, max_length=100)
    keywords: str | None = Field(None, max_length=300)
    attributes: list[CategoryAttribute] = Field(default_factory=list)
    sla_hours: float | None = Field(
        None, gt=0, description="Working hours to resolve a normal report (unset: the default)"
    )
    sort_order: int = 0


class CategoryCreate(CategoryBase):
    """A new category, with the agencies that handle it."""

    default_agency_code: str | None = None
    agency_codes: list[str] = Field(
        default_factory=list, description="Agencies handling it within their own unit (routing)"
    )


class CategoryUpdate(BaseModel):
    """Changes to a category (only the fields given)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = None
    description: str | None = None
    description_en: str | None = None
    group: str | None = None
    group_en: str | None = None
    keywords: str | None = None
    attributes: list[CategoryAttribute] | None = None
    sla_hours: float | None = Field(None, gt=0)
    sort_order: int | None = None
    is_active: bool | None = None
    default_agency_code: str | None = None
    agency_codes: list[str] | None = None


class CategoryPublic(CategoryBase):
    """A category as the API returns it."""

    id: int
    is_active: bool
    default_agency_code: str | None
    agency_codes: list[str]


class CategoryList(BaseModel):
    """Categories."""

    items: list[CategoryPublic]
    total: int


# --- reports -------------------------------------------------------------------------------


class ReportBase(BaseModel):
    """What a report is about and where."""

    category_code: str
    description: str = Field(min_length=3, max_length=4000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=300)
    attributes: dict[str, Any] = Field(default_factory=dict)


class ReportCreate(ReportBase):
    """A new report, with who sends it (anonymous: hidden from agencies)."""

    reporter_name: str | None = Field(None, max_length=200)
    reporter_phone: str | None = Field(None, max_length=50)
    reporter_email: EmailStr | None = None
    anonymous: bool = False
    urgency: Urgency = Field(Urgency.normal, description="Set by staff; citizens' value is ignored")
    media_url: str | None = Field(None, max_length=500)


class ReportUpdate(BaseModel):
    """Corrections an operator makes before the report goes to an agency."""

    category_code: str | None = None
    description: str | None = Field(None, min_length=3, max_length=4000)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    address: str | None = Field(None, max_length=300)
    urgency: Urgency | None = None


class ReporterPublic(BaseModel):
    """Who sent a report (shown only to those allowed to see it)."""

    name: str | None
    phone: str | None
    email: str | None


class PhotoPublic(BaseModel):
    """A photo of a report."""

    id: int
    content_type: str
    width: int
    height: int
    size: int
    url: str
    thumb_url: str
    created_at: datetime


class CommentCreate(BaseModel):
    """A new comment: internal unless public is true."""

    body: str = Field(min_length=1, max_length=4000)
    public: bool = False


class CommentPublic(BaseModel):
    """A comment on a report."""

    id: int
    body: str
    public: bool
    author: str
    created_at: datetime


class StatusChangePublic(BaseModel):
    """A step of a report's history."""

    action: str
    from_status: str | None
    to_status: str
    at: datetime
    actor: str | None
    note: str | None
    agency_code: str | None


class ReportPublic(ReportBase):
    """A report as staff see it (the reporter only where their role may)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    tracking_code: str
    category_name: str
    unit_code: str | None
    unit_name: str | None
    status: str
    status_label_vi: str
    status_label_en: str
    status_colour: str
    urgency: str
    urgency_label_vi: str
    source: str
    agency_code: str | None
    agency_name: str | None
    status_note: str | None
    resolution: str | None
    media_url: str | None
    anonymous: bool
    reporter: ReporterPublic | None
    duplicate_of: str | None
    created_at: datetime
    updated_at: datetime
    verified_at: datetime | None
    assigned_at: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    accept_due_at: datetime | None
    due_at: datetime | None
    overdue: bool
    handling_hours: float | None
    on_time: bool | None
    rating: int | None
    rating_comment: str | None
    reopen_count: int
    spam_score: int = 0
    spam_flagged: bool = False
    photos: list[PhotoPublic]


class ReportList(BaseModel):
    """A page of reports."""

    items: list[ReportPublic]
    total: int


class ReportReceipt(BaseModel):
    """What a citizen gets back: the tracking code and the secret to rate or reopen."""

    tracking_code: str
    secret: str
    status: str
    message_vi: str
    message_en: str


class CitizenView(BaseModel):
    """A report as anyone with its tracking code sees it: no reporter, public notes only."""

    tracking_code: str
    category_code: str
    category_name: str
    description: str | None
    address: str | None
    lat: float | None
    lon: float | None
    status: str
    status_label_vi: str
    status_label_en: str
    status_colour: str
    agency_name: str | None
    resolution: str | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None
    rating: int | None
    comments: list[CommentPublic]
    history: list[StatusChangePublic]
    photos: list[PhotoPublic]
    unit_name: str | None = Field(None, description="The commune (shown instead of the point)")
    duplicate_of: str | None = Field(None, description="Main report of a merged duplicate")
    main_status: str | None = Field(None, description="Status of the main report")
    main_status_label_vi: str | None = None
    main_status_label_en: str | None = None


# --- actions -------------------------------------------------------------------------------


class VerifyIn(BaseModel):
    """Verification: optionally correct the category and set the urgency."""

    urgency: Urgency | None = None
    category_code: str | None = None
    note: str | None = Field(None, max_length=2000)


class RejectIn(BaseModel):
    """Close a new report as invalid, duplicate or spam."""

    status: Literal["invalid", "duplicate", "spam"]
    reason: ReasonText
    duplicate_of: str | None = Field(None, description="Tracking code of the original report")


class AssignIn(BaseModel):
    """Send a report to an agency by hand."""

    agency_code: str
    reason: ReasonText


class ReasonIn(BaseModel):
    """An action that needs a reason."""

    reason: ReasonText


class NoteIn(BaseModel):
    """An action with an optional note."""

    note: str | None = Field(None, max_length=2000)


class ResolveIn(BaseModel):
    """The agency's answer: what was done."""

    resolution: ReasonText


class RateIn(BaseModel):
    """The reporter's rating of the handling, proven by the report's secret."""

    secret: str = Field(min_length=8, max_length=100)
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)


class CitizenReopenIn(BaseModel):
    """The reporter asks to reopen their report, proven by its secret."""

    secret: str = Field(min_length=8, max_length=100)
    reason: ReasonText


class ChoicePublic(BaseModel):
    """A status or urgency value with its labels and colour."""

    value: str
    label_vi: str
    label_en: str
    colour: str


class ChoicesPublic(BaseModel):
    """Every choice set of the module."""

    statuses: list[ChoicePublic]
    urgencies: list[ChoicePublic]
    sources: list[ChoicePublic]
