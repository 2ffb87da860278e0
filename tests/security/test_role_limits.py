"""Issue 8, "upper-level readers" and branch secretaries: each role reads what it is for."""
from datetime import date

from portal.jobs.queue import wait
from portal.roster import services as roster
from tests.conftest import login, scope, tenant
from tests.factories import id_number

A = "110105"


def test_an_upper_reader_gets_aggregates_not_the_registry(make, client):
    make.org(A, name="朝阳区名录党委", kind="基层党委", role="both", contact_name="名录联系人",
             contact_phone="13811112222")
    reader = make.user(None, "upper_reader", username="bj-reader", region="110000")
    token = make.token(reader)
    resp = client.get("/api/v1/registry", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert "名录联系人" not in resp.get_data(as_text=True)
    assert client.get("/api/v1/regions/110000/stats", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    login(client, "bj-reader")
    page = client.get("/registry")
    assert page.status_code == 403 and "名录联系人" not in page.get_data(as_text=True)
    assert "汇总" in page.get_data(as_text=True)
    assert "联合名录" not in client.get("/region/110000/stats").get_data(as_text=True)
    # A tenant role still reads it.
    make.user(A, "viewer", username="a-registry-viewer")
    login(client, "a-registry-viewer")
    assert "名录联系人" in client.get("/registry").get_data(as_text=True)


def test_a_secretary_reads_only_the_imports_they_started(make, client):
    top = make.org(A, name="朝阳区导入党委", kind="基层党委")
    branch = make.org(A, name="朝阳区甲支部", parent=top)
    other = make.org(A, name="朝阳区乙支部", parent=top)
    make.user(A, "secretary", username="a-sec", org=branch)
    clerk = make.principal(A, "clerk")
    content = ("姓名,性别,身份证号,学历,入党日期,所在支部,流动方向\n"
               f"乙支部党员,男,{id_number(A, date(1983, 8, 8), 81)},本科,2010-07-01,{other.name},流出\n").encode()
    with scope(A):
        run = roster.start(clerk, "全县名册.csv", content)
        run_id, job_id = run.id, run.job_id
    wait(job_id, tenant(A).id, timeout=300)
    login(client, "a-sec")
    for path in (f"/t/{A}/roster/import/{run_id}", f"/t/{A}/roster/import/{run_id}/errors.xlsx"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert "全县名册" not in resp.get_data(as_text=True)
    # Their own import they do read.
    mine = ("姓名,性别,身份证号,学历,入党日期,所在支部,流动方向\n"
            f"甲支部党员,男,{id_number(A, date(1984, 8, 8), 82)},本科,2010-07-01,{branch.name},流出\n").encode()
    resp = client.post(f"/t/{A}/roster/import", data={"file": (__import__("io").BytesIO(mine), "我的名册.csv")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    own_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    with scope(A):
        wait(roster.get(own_id).job_id, tenant(A).id, timeout=300)
    assert client.get(f"/t/{A}/roster/import/{own_id}").status_code == 200
