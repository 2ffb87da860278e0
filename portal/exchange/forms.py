"""The exchange's page forms, one Flask-WTF form per form on the pages. They read what was posted
(the field names are the API's) and hand the services the plain dicts the API sends as JSON; the
rules and their Chinese messages stay in the services, so pages and API answer alike. CSRF is
checked for every form by Flask-WTF's CSRFProtect, before the view runs."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField

from portal.core.forms import choices
from portal.exchange.models import (DEFAULT_DUTIES_HOST, DEFAULT_DUTIES_ORIGIN, NOTICE_KINDS, NOTICE_LABELS,
                                    REPORT_LABELS, RETURN_REASON_LABELS)
from portal.i18n import _


class ExchangeForm(FlaskForm):
    """Fields left out of the post stay out of the payload (a service tells "not given" from
    "given empty", e.g. a resubmission keeps the note it had)."""

    def given(self, *names) -> dict:
        return {n: self[n].data for n in names if self[n].raw_data}

    def text(self, name: str, default: str = "") -> str:
        return self[name].data if self[name].raw_data else default


class TransferForm(ExchangeForm):
    member = HiddenField()
    to_org = HiddenField()
    note = TextAreaField()

    def payload(self) -> dict:
        return self.given("member", "to_org", "note")


class ReturnForm(ExchangeForm):
    reason = SelectField(choices=lambda: choices([("", _("请选择退回原因"))] + list(RETURN_REASON_LABELS.items())),
                         validate_choice=False)
    note = TextAreaField()

    def payload(self) -> dict:
        return self.given("reason", "note")


class ResubmitForm(ExchangeForm):
    note = TextAreaField()
    to_org = StringField()

    def payload(self) -> dict:
        data = self.given("note", "to_org")
        if not (data.get("to_org") or "").strip():  # left empty: the same receiving organization
            data.pop("to_org", None)
        return data


class CancelForm(ExchangeForm):
    note = StringField()

    def payload(self) -> dict:
        return self.given("note")


class ArriveForm(ExchangeForm):
    arrived_on = StringField()

    def payload(self) -> dict:
        return self.given("arrived_on")


class BareStepForm(ExchangeForm):
    """Accept and reissue: a button and the CSRF token."""

    def payload(self) -> dict:
        return {}


STEP_FORMS = {"return": ReturnForm, "resubmit": ResubmitForm, "cancel": CancelForm, "arrive": ArriveForm}


def step_form(step: str) -> ExchangeForm:
    return STEP_FORMS.get(step, BareStepForm)()


def step_forms(note: str, today: str, step: str = "", posted: dict | None = None) -> dict:
    """The step forms of a transfer's page; the one just posted holds what was typed."""
    defaults = {"resubmit": {"note": note}, "arrive": {"arrived_on": today}}
    return {name: cls(formdata=None, data=posted if name == step and posted is not None else defaults.get(name, {}))
            for name, cls in STEP_FORMS.items()}


class AgreementForm(ExchangeForm):
    """The proposal. The member picker's checkboxes are drawn by the page (each names the member's
    masked ID number and organization, and the ticked ones travel with the picker's search);
    `members` reads them."""
    host_org = HiddenField()
    origin_org = SelectField(choices=[], validate_choice=False)   # the own organizations, set by the view
    scope = RadioField(choices=[], default="members", validate_choice=False)
    members = SelectMultipleField(validate_choice=False)
    duties_host = TextAreaField()
    duties_origin = TextAreaField()
    report_every = SelectField(choices=lambda: choices(REPORT_LABELS.items()), default="quarter",
                               validate_choice=False)
    starts_on = StringField()
    ends_on = StringField()
    contact_name = StringField()
    contact_phone = StringField()
    note = TextAreaField()

    def payload(self) -> dict:
        data = self.given("host_org", "origin_org", "scope", "report_every", "starts_on", "ends_on",
                          "contact_name", "contact_phone", "note")
        if data.get("scope") != "all_in_area":
            data["members"] = list(self.members.data or [])
            data["scope"] = "members"
        data["duties"] = {"host": self.text("duties_host"), "origin": self.text("duties_origin")}
        return data


class AgreementStepForm(ExchangeForm):
    """Countersign (contact person and phone), decline and terminate (a reason)."""
    reason = TextAreaField()
    contact_name = StringField()
    contact_phone = StringField()

    def payload(self) -> dict:
        return self.given("reason", "contact_name", "contact_phone")


class AttendanceForm(ExchangeForm):
    member = SelectField(choices=[], validate_choice=False)   # the members covered, set by the view
    on = StringField()
    activity = StringField()
    present = BooleanField(default=True)

    def payload(self) -> dict:
        data = self.given("member", "on", "activity")
        # an unticked box posts nothing: absent
        data["present"] = self.present.raw_data[0] if self.present.raw_data else "0"
        return data


class NoticeForm(ExchangeForm):
    kind = SelectField(choices=lambda: choices((k, NOTICE_LABELS[k]) for k in NOTICE_KINDS), default=NOTICE_KINDS[0],
                       validate_choice=False)
    member = SelectField(choices=[], validate_choice=False)   # optional: the members covered, set by the view
    occurred_on = StringField()
    body = TextAreaField()

    def payload(self) -> dict:
        return self.given("kind", "member", "occurred_on", "body")


class HeldElsewhereForm(ExchangeForm):
    """The register's one-step offers for a person whose relationship another tenant holds."""
    id_number = StringField()
    to_org = StringField()
    host_org = StringField()
    note = StringField()
    ends_on = StringField()

    def payload(self) -> dict:
        return {n: self.text(n) for n in ("id_number", "to_org", "host_org", "note", "ends_on")}


def default_duties() -> dict:
    return {"host": "\n".join(DEFAULT_DUTIES_HOST), "origin": "\n".join(DEFAULT_DUTIES_ORIGIN)}


AGREEMENT_FORMS = {"countersign": AgreementStepForm, "decline": AgreementStepForm, "terminate": AgreementStepForm,
                   "attendance": AttendanceForm, "notice": NoticeForm}


def agreement_forms(covered, today: str, done: str = "", posted: dict | None = None) -> dict:
    """The forms of an agreement's page, with the covered members to choose from; the one just
    posted holds what was typed."""
    defaults = {"attendance": {"on": today}}
    forms = {name: cls(formdata=None, data=posted if name == done and posted is not None else defaults.get(name, {}))
             for name, cls in AGREEMENT_FORMS.items()}
    if done == "attendance" and posted is not None:
        forms["attendance"].present.data = posted.get("present") not in ("0", "", None)
    people = [(c["member_id"], c["name"]) for c in covered if c["active"]]
    forms["attendance"].member.choices = choices(people)
    forms["notice"].member.choices = choices([("", _("涉及党员（可选）"))] + people)
    return forms
