import datetime
import json

from django.urls import reverse

from aixin.care.models import CareRecord
from tests import factories
from tests.care.helpers import paired_child, record


def post(client, payload):
    return client.post(
        reverse("api:care_records_create"), json.dumps(payload), content_type="application/json"
    )


def test_a_mother_records_care_through_the_api(tree, login):
    pairing = paired_child(tree.village_a1)
    today = f"{datetime.date.today():%Y-%m-%d}"
    resp = post(
        login(pairing.volunteer.user),
        {
            "pairing_id": pairing.pk,
            "date": today,
            "kind": "video",
            "rules": ["weekly_contact", "monthly_guardian"],
            "services": ["tutoring"],
            "notes": "讲了数学题",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["rules"] == ["weekly_contact", "monthly_guardian"]
    assert (body["date"], body["kind"], body["services"]) == (today, "video", ["tutoring"])
    assert CareRecord.objects.get().notes == "讲了数学题"


def test_api_errors_are_chinese_with_code_and_field_and_write_nothing(tree, login):
    pairing = paired_child(tree.village_a1)
    client = login(pairing.volunteer.user)
    tomorrow = f"{datetime.date.today() + datetime.timedelta(days=1):%Y-%m-%d}"
    resp = post(
        client, {"pairing_id": pairing.pk, "date": tomorrow, "kind": "phone", "rules": ["weekly_contact"]}
    )
    assert resp.status_code == 400
    assert resp.json() == {"detail": "关爱日期不能晚于今天", "code": "invalid", "field": "date"}
    resp = post(
        client, {"pairing_id": pairing.pk, "date": "3/8", "kind": "phone", "rules": ["weekly_contact"]}
    )
    assert resp.status_code == 400
    assert resp.json()["field"] == "date"
    assert CareRecord.objects.count() == 0


def test_api_refuses_another_mothers_pairing_with_404(tree, login):
    pairing = paired_child(tree.village_a1)
    other = factories.make_volunteer(tree.village_a1, name="赵秀英")
    resp = post(
        login(other.user),
        {
            "pairing_id": pairing.pk,
            "date": f"{datetime.date.today():%Y-%m-%d}",
            "kind": "phone",
            "rules": ["weekly_contact"],
        },
    )
    assert resp.status_code == 404
    assert CareRecord.objects.count() == 0


def test_village_directors_may_not_record_through_the_api(tree, users, login):
    pairing = paired_child(tree.village_a1)
    resp = post(
        login(users["village_director"]),
        {
            "pairing_id": pairing.pk,
            "date": f"{datetime.date.today():%Y-%m-%d}",
            "kind": "phone",
            "rules": ["weekly_contact"],
        },
    )
    assert resp.status_code == 403
    assert CareRecord.objects.count() == 0


def test_me_checklist_lists_each_active_pairing_with_its_items(tree, login):
    mother = factories.make_volunteer(tree.village_a1, name="李爱华", capacity=3)
    a = paired_child(tree.village_a1, name="王小丫", mother=mother, start=datetime.date.today())
    paired_child(tree.village_a1, name="陈小虎", mother=mother, start=datetime.date.today())
    paired_child(tree.village_a1, name="别人的孩子")
    record(a, datetime.date.today(), ["weekly_contact"])
    resp = login(mother.user).get(reverse("api:me_checklist"))
    assert resp.status_code == 200
    data = resp.json()
    assert sorted(p["child_name"] for p in data) == ["王小丫", "陈小虎"]
    first = next(p for p in data if p["child_name"] == "王小丫")
    statuses = {i["rule_code"]: i["status"] for i in first["items"]}
    assert statuses["weekly_contact"] == "done"
    assert list(statuses.values()).count("due") == 6


def test_me_checklist_is_for_loving_mothers_only(users, login):
    assert login(users["district_admin"]).get(reverse("api:me_checklist")).status_code == 403
