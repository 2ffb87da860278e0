"""Turning submitted page forms into the plain dicts the services take (the API sends the same
dicts as JSON). Validation is the services' work, so pages and API answer alike; CSRF is checked
for every form by Flask-WTF's CSRFProtect."""
from flask import request

from portal.exchange.models import DEFAULT_DUTIES_HOST, DEFAULT_DUTIES_ORIGIN


def form_dict(*keys) -> dict:
    """The named fields of the submitted form, absent ones left out."""
    return {k: request.form[k] for k in keys if k in request.form}


def transfer_form() -> dict:
    return form_dict("member", "to_org", "note")


def step_form(step: str) -> dict:
    return {
        "return": lambda: form_dict("reason", "note"),
        "resubmit": lambda: {k: v for k, v in form_dict("note", "to_org").items() if k != "to_org" or v.strip()},
        "cancel": lambda: form_dict("note"),
        "arrive": lambda: form_dict("arrived_on"),
    }.get(step, dict)()


def agreement_form() -> dict:
    data = form_dict("host_org", "origin_org", "scope", "report_every", "starts_on", "ends_on", "contact_name",
                     "contact_phone", "note")
    if data.get("scope") != "all_in_area":
        data["members"] = request.form.getlist("members")
        data["scope"] = "members"
    data["duties"] = {"host": request.form.get("duties_host", ""), "origin": request.form.get("duties_origin", "")}
    return data


def default_duties() -> dict:
    return {"host": "\n".join(DEFAULT_DUTIES_HOST), "origin": "\n".join(DEFAULT_DUTIES_ORIGIN)}
