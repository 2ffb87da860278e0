"""The inbox's tabs are counted for both boxes in one statement; the figures are those of counting
each box on its own, a transfer inside one county (in both boxes) included."""
from portal.exchange import transfers
from portal.tenancy.context import tenant_scope
from tests.exchange.conftest import A, B


def test_both_boxes_counted_at_once_equal_each_box_counted_alone(api, world, make):
    other = world.make.org(A, name="朝阳区另一党支部", parent=world.orgs["a_committee"])
    inside = world.member(name="王五")
    assert api("a_clerk").post(f"/t/{A}/transfers", {"member": inside.id, "to_org": other.code}).status_code == 201
    for i in range(2):
        m = world.member(name=f"李{i}")
        assert api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")}
                                   ).status_code == 201
    back = world.member(name="赵六", org="b_branch", code=B)
    assert api("b_clerk").post(f"/t/{B}/transfers", {"member": back.id, "to_org": world.code("a_branch")}
                               ).status_code == 201
    # The principals (their users) are written before the reads: on Citus a transaction that has
    # read shards in parallel may not then write a reference table.
    principals = {code: make.principal(code) for code in (A, B)}
    for code in (A, B):
        principal = principals[code]
        with tenant_scope(principal.tenant.id):
            together = transfers.box_counts(principal)
            alone = {box: transfers.counts(principal, box) for box in transfers.BOXES}
        assert together == alone
    assert together["incoming"]["all"] == 2 and together["outgoing"]["all"] == 1
    principal = principals[A]
    with tenant_scope(principal.tenant.id):
        assert transfers.box_counts(principal)["incoming"]["all"] == 2  # the internal one and 赵六's
        assert transfers.box_counts(principal)["outgoing"]["all"] == 3
