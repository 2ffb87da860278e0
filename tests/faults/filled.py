"""A tenant with rows in every table an archive holds (helper of the backup and key tests)."""
from datetime import date, datetime
from decimal import Decimal

from portal.auth.access import Principal
from portal.extensions import db
from portal.tenancy.context import tenant_scope
from tests.conftest import tenant
from tests.factories import id_number
from tests.letters.support import issue_intro

A, B = "110105", "320115"
NOW = datetime(2026, 11, 20, 9, 30, 15, 123456)


def fill(make) -> dict:
    """Tenant A with a register, documents, standing records, work items and jobs, and a transfer and
    an agreement shared with B (one owned by each side). Returns ids the tests look at."""
    from portal.auth.models import RecoveryCode
    from portal.core import crypto
    from portal.exchange.models import (
        Agreement,
        AgreementMember,
        Attendance,
        Notice,
        Notification,
        Transfer,
        TransferEvent,
    )
    from portal.jobs.models import Job
    from portal.letters.models import LetterBatch
    from portal.members import services as members
    from portal.roster.models import RosterImport
    from portal.standing.models import (
        ActivityCertificate,
        DuesPayment,
        OrgLifeRecord,
        TrainingActivity,
        TrainingAttendance,
    )
    from portal.worklist.models import WorkItem, WorklistDigest
    top = make.org(A, name="朝阳区流动人员党委", kind="基层党委")
    branch = make.org(A, name="朝阳区某街道党支部", parent=top)
    other = make.org(B, name="江宁区流动党员党支部", kind="流动党员党支部", role="host")
    admin = make.user(A, "tenant_admin", username="backup-admin")
    clerk = make.user(A, "clerk", username="backup-clerk", org=branch)
    outsider = make.user(B, "clerk", username="jiangning-clerk")
    make.token(clerk)
    first = make.member(A, branch, name="张备份", id_number=id_number(A, date(1988, 3, 4), 11))
    second = make.member(A, branch, name="李备份", id_number=id_number(A, date(1990, 6, 7), 23))
    theirs = make.member(B, other, name="王对方", id_number=id_number(B, date(1985, 1, 2), 35))
    ta, tb = tenant(A), tenant(B)
    ids = {"tenant": ta.id, "other": tb.id, "members": [first.id, second.id], "users": [admin.id, clerk.id],
           "outsider": outsider.id, "orgs": [top.id, branch.id]}
    principal = Principal(user=admin, tenant=ta, grant=admin.grant_for(ta.id))
    letter = issue_intro(principal, A, render="now", name="张备份")
    ids["letter"] = letter.id
    with tenant_scope(ta.id):
        members.record_contact(principal, db.session.get(type(first), first.id),
                               {"on": date(2026, 11, 1), "channel": "电话", "note": "备份前的联系"})
        db.session.add(RecoveryCode(user_id=clerk.id, code_hash=crypto.keyed_hash("recovery:abcde-12345")))
        job = Job(id="backup-job-1", kind="letters.render", state="done", params={"ids": [letter.id]},
                  result={"rendered": 1}, created_by=admin.id, created_at=NOW, tenant_id=ta.id)
        db.session.add(job)
        db.session.add(LetterBatch(kind="introduction", title="一批", body="正文", org_id=branch.id,
                                   on_date=date(2026, 11, 2), letter_ids=[letter.id], count=1, job_id=job.id,
                                   pdf=b"%PDF-1.4 batch \x00\xff bytes", pdf_sha256="0" * 64, created_by=admin.id,
                                   tenant_id=ta.id))
        db.session.add(RosterImport(filename="名册.xlsx", content=b"PK\x03\x04 an upload \x00\x01", state="done",
                                    rows=2, written=2, errors=[], unknown_columns=[], created_by=admin.id,
                                    tenant_id=ta.id))
        db.session.add(DuesPayment(member_id=first.id, month="2026-10", amount=Decimal("12.50"),
                                   recorded_by=admin.id, tenant_id=ta.id))
        db.session.add(OrgLifeRecord(member_id=first.id, on=date(2026, 10, 9), org_id=branch.id, kind="meeting",
                                     note="支部会", tenant_id=ta.id))
        db.session.add(ActivityCertificate(member_id=second.id, number="LD-2026-7", issued_on=date(2026, 1, 5),
                                           tenant_id=ta.id))
        activity = TrainingActivity(org_id=branch.id, title="学习", on=date(2026, 9, 1), points=Decimal("1.5"),
                                    tenant_id=ta.id)
        db.session.add(activity)
        db.session.flush()
        db.session.add(TrainingAttendance(activity_id=activity.id, member_id=first.id, tenant_id=ta.id))
        db.session.add(WorkItem(kind="lost_contact", subject_type="member", subject_id=second.id, org_id=branch.id,
                                subject_name="李备份", member_id=second.id, found_on=date(2026, 11, 3),
                                tenant_id=ta.id))
        db.session.add(WorklistDigest(org_id=branch.id, on=date(2026, 11, 3), items=1, recipients="a@example.cn",
                                      created_at=NOW, tenant_id=ta.id))
        db.session.add(Notification(org_id=branch.id, from_tenant_id=tb.id, kind="transfer_in", message="来函",
                                    data={"n": 1}, tenant_id=ta.id))
        sent = Transfer(other_tenant_id=tb.id, member_id=first.id, member_snapshot={"name": "张备份"},
                        member_name="张备份", from_org_id=branch.id, to_org_id=other.id, state="submitted",
                        submitted_at=NOW, reply_due_on=date(2026, 12, 20), created_by=admin.id, tenant_id=ta.id)
        agreement = Agreement(other_tenant_id=tb.id, number="共管-1", origin_org_id=branch.id, host_org_id=other.id,
                              proposed_by_side="origin", duties_host=["a"], duties_origin=["b"],
                              starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1), state="active", tenant_id=ta.id)
        db.session.add_all([sent, agreement])
        db.session.flush()
        db.session.add(TransferEvent(other_tenant_id=tb.id, transfer_id=sent.id, at=NOW, actor_id=admin.id,
                                     action="submit", to_state="submitted", tenant_id=ta.id))
        db.session.add(AgreementMember(other_tenant_id=tb.id, agreement_id=agreement.id, member_id=first.id,
                                       id_hash=first.id_hash, name="张备份", sex="男", id_masked=first.id_masked,
                                       tenant_id=ta.id))
        db.session.add(Attendance(other_tenant_id=tb.id, agreement_id=agreement.id, member_id=first.id,
                                  on=date(2026, 6, 1), activity="主题党日", present=True, tenant_id=ta.id))
        db.session.add(Notice(other_tenant_id=tb.id, agreement_id=agreement.id, from_side="host", kind="note",
                              body="情况通报", tenant_id=ta.id))
        from portal.selfservice import services as selfservice
        from portal.selfservice.models import SelfReport
        _token, link = selfservice.issue(principal, db.session.get(type(first), first.id))
        db.session.add(SelfReport(member_id=first.id, link_id=link.id, kind="details", state="pending",
                                  values={"phone": "13700001111"}, previous={"phone": ""}, address="127.0.0.1",
                                  created_at=NOW, tenant_id=ta.id))
        db.session.commit()
        ids["transfer"], ids["agreement"] = sent.id, agreement.id
    with tenant_scope(tb.id):  # the other side's row of what A takes part in
        incoming = Transfer(other_tenant_id=ta.id, member_id=theirs.id, member_snapshot={"name": "王对方"},
                            member_name="王对方", from_org_id=other.id, to_org_id=branch.id, state="submitted",
                            submitted_at=NOW, reply_due_on=date(2026, 12, 21), tenant_id=tb.id)
        db.session.add(incoming)
        db.session.commit()
        ids["incoming"] = incoming.id
    return ids
