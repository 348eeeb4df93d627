"""The matching pages: an admin starts a run, reads its report and proposals, accepts, rejects or
swaps, confirms into pairing proposals and reads what was skipped; a second start on a busy
district is refused; another district's admin gets 404 and changes nothing; the child's file
suggests up to five mothers with reasons."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from aixin.matching.models import MatchExclusion, MatchProposal, MatchRun, ProposalStatus, RunStatus
from aixin.matching.services import run_match
from aixin.pairing.models import Pairing, PairingStatus
from tests import factories


@pytest.fixture
def queue_runs_now(monkeypatch: Any) -> Any:
    """Huey in immediate mode, and on-commit callbacks run at once (the test's transaction never
    commits): the task a page queues after its write runs inside the request."""
    from django.db import transaction
    from huey.contrib.djhuey import HUEY

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())
    before = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = before


@pytest.fixture
def admin_a(users: dict[str, Any]) -> Any:
    return users["district_admin"]


@pytest.fixture
def people(tree: Any) -> dict[str, Any]:
    return {
        "c1": factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True),
        "c2": factories.make_child(tree.village_a1, name="困难乙", difficulty_life=True),
        "m1": factories.make_volunteer(tree.village_a1, name="甲妈妈", capacity=1),
        "m2": factories.make_volunteer(tree.village_a1, name="乙妈妈", capacity=1),
    }


@pytest.fixture
def done_run(people: dict[str, Any], admin_a: Any) -> MatchRun:
    run = run_match(actor=admin_a, district_code="500101")
    assert isinstance(run, MatchRun)
    return run


def _proposal(run: MatchRun, child: Any) -> MatchProposal:
    return MatchProposal.objects.get(run=run, child=child)


def _messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _decide(client: Any, proposal: MatchProposal, decision: str, **extra: Any) -> Any:
    return client.post(
        reverse("matching:proposal_decide", args=[proposal.pk]), {"decision": decision, **extra}, follow=True
    )


def test_an_admin_starts_a_run_and_lands_on_its_proposals_with_reasons(
    tree: Any, people: dict[str, Any], admin_a: Any, login: Any, queue_runs_now: Any
) -> None:
    client = login(admin_a)
    form_page = client.get(reverse("matching:run_list")).content.decode()
    assert "万州区" in form_page and "涪陵区" not in form_page  # her district, fixed
    response = client.post(reverse("matching:run_list"), {"reach": "district"})
    run = MatchRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:run_detail", args=[run.pk])
    assert run.status == RunStatus.DONE and run.district == tree.district_a and run.created_by == admin_a
    page = client.get(response["Location"]).content.decode()
    assert "孤儿甲" in page and "困难乙" in page
    assert "优先保障" in page  # the orphan's mark
    assert "同村" in page and "当前结对 0/1" in page  # the explanation
    assert people["c1"].id_number_masked in page
    assert 'id="run-report"' in page and 'id="greedy"' in page
    assert "采纳" in page and "否决" in page and "换人" in page
    assert reverse("matching:run_confirm", args=[run.pk]) in page
    assert 'hx-trigger="every 1s"' not in page  # a finished run does not poll

    listing = client.get(reverse("matching:run_list")).content.decode()
    assert reverse("matching:run_detail", args=[run.pk]) in listing and "2/2" not in listing
    assert "1/1" in listing  # must-cover matched / total


def test_a_city_admin_chooses_the_district_and_the_reach(
    tree: Any, people: dict[str, Any], users: dict[str, Any], login: Any, queue_runs_now: Any
) -> None:
    client = login(users["city_admin"])
    page = client.get(reverse("matching:run_list")).content.decode()
    assert "万州区" in page and "涪陵区" in page
    missing = client.post(reverse("matching:run_list"), {"reach": "town"})
    assert "请选择要匹配的区县" in missing.content.decode() and not MatchRun.objects.exists()
    response = client.post(reverse("matching:run_list"), {"district": "500101", "reach": "town"})
    run = MatchRun.objects.get()
    assert response["Location"] == reverse("matching:run_detail", args=[run.pk])
    assert run.reach == "town" and run.created_by == users["city_admin"]


def test_a_district_admin_cannot_start_a_run_on_another_district(
    tree: Any, admin_a: Any, login: Any, queue_runs_now: Any
) -> None:
    client = login(admin_a)
    # The district field is fixed to hers: whatever is posted, her own district is run.
    client.post(reverse("matching:run_list"), {"district": "500102", "reach": "district"})
    assert list(MatchRun.objects.values_list("district__code", flat=True)) == ["500101"]


def test_a_second_start_while_a_run_is_computing_shows_the_conflict(
    tree: Any, admin_a: Any, login: Any, queue_runs_now: Any
) -> None:
    MatchRun.objects.create(district=tree.district_a)  # running
    client = login(admin_a)
    response = client.post(reverse("matching:run_list"), {"reach": "district"})
    assert response.status_code == 200
    assert "万州区已有一次匹配正在计算，请等它完成后再试" in response.content.decode()
    assert MatchRun.objects.count() == 1


def test_a_running_run_polls_until_it_is_done(tree: Any, admin_a: Any, login: Any) -> None:
    run = MatchRun.objects.create(district=tree.district_a, created_by=admin_a)
    client = login(admin_a)
    page = client.get(reverse("matching:run_detail", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and reverse("matching:run_progress", args=[run.pk]) in page
    assert "计算中" in page
    listing = client.get(reverse("matching:run_list")).content.decode()
    assert 'hx-trigger="every 2s"' in listing
    poll = client.get(reverse("matching:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in poll
    MatchRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE)
    poll = client.get(reverse("matching:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert poll["HX-Refresh"] == "true"


def test_accept_reject_and_swap_on_the_page(
    done_run: MatchRun, people: dict[str, Any], admin_a: Any, login: Any
) -> None:
    client = login(admin_a)
    p1, p2 = _proposal(done_run, people["c1"]), _proposal(done_run, people["c2"])
    response = _decide(client, p1, "accept")
    assert "孤儿甲：已采纳" in _messages(response)
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.ACCEPTED

    response = _decide(client, p2, "reject")
    p2.refresh_from_db()
    assert p2.status == ProposalStatus.REJECTED and "已否决" in _messages(response)

    other = p1.alternatives[0]["volunteer"]
    response = _decide(client, p1, "swap", volunteer=other)
    p1.refresh_from_db()
    assert p1.volunteer_id == other and "已换人" in _messages(response)
    assert response.redirect_chain[-1][0] == reverse("matching:run_detail", args=[done_run.pk])


def test_a_decision_from_the_page_with_scripts_answers_with_the_page_in_place(
    done_run: MatchRun, people: dict[str, Any], admin_a: Any, login: Any
) -> None:
    """htmx posts the decision and swaps in the proposals' section of the answer: no redirect,
    the outcome said inside the section, the row and the confirm button already updated."""
    client = login(admin_a)
    p1 = _proposal(done_run, people["c1"])
    url = reverse("matching:proposal_decide", args=[p1.pk])

    response = client.post(url, {"decision": "accept", "page": "1"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    page = response.content.decode()
    section = page[page.index('id="proposals"') :]
    assert 'id="review-feedback"' in section and "孤儿甲：已采纳" in section
    assert "确认发起结对（已采纳 1 条）" in section
    row = section[section.index(f'id="proposal-{p1.pk}"') :]
    assert "已采纳" in row[: row.index("</tr>")]
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.ACCEPTED

    refused = client.post(url, {"decision": "swap"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'class="msg-error"' in refused and "换人时请选择一位备选的爱心妈妈" in refused
    # The outcome was said on the page: it does not come back as a message on the next one.
    assert (
        "孤儿甲：已采纳"
        not in client.get(reverse("matching:run_detail", args=[done_run.pk])).content.decode()
    )


def test_marking_the_proposed_mother_unsuitable_on_the_review_page_rejects_and_excludes_her(
    done_run: MatchRun, people: dict[str, Any], admin_a: Any, login: Any
) -> None:
    client = login(admin_a)
    p1 = _proposal(done_run, people["c1"])
    page = client.get(reverse("matching:run_detail", args=[done_run.pk])).content.decode()
    assert "否决并不再推荐" in page and 'value="relative"' in page

    response = client.post(
        reverse("matching:proposal_decide", args=[p1.pk]),
        {"decision": "exclude", "reason": "conflict", "note": "邻里纠纷"},
        HTTP_HX_REQUEST="true",
    )

    assert "孤儿甲：已否决，并设置该爱心妈妈不宜结对，今后匹配不再推荐" in response.content.decode()
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.REJECTED
    assert MatchExclusion.objects.filter(child=people["c1"], volunteer_id=p1.volunteer_id).exists()
    missing = client.post(
        reverse("matching:proposal_decide", args=[_proposal(done_run, people["c2"]).pk]),
        {"decision": "exclude"},
        HTTP_HX_REQUEST="true",
    )
    assert "请选择不宜结对的原因" in missing.content.decode()


def test_a_swap_without_a_chosen_mother_says_so(
    done_run: MatchRun, people: dict[str, Any], admin_a: Any, login: Any
) -> None:
    client = login(admin_a)
    p1 = _proposal(done_run, people["c1"])
    response = _decide(client, p1, "swap")
    assert "换人时请选择一位备选的爱心妈妈" in _messages(response)
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.PROPOSED


def test_swapping_beyond_the_mothers_free_places_is_refused_with_the_reason(
    done_run: MatchRun, people: dict[str, Any], admin_a: Any, login: Any
) -> None:
    client = login(admin_a)
    p1, p2 = _proposal(done_run, people["c1"]), _proposal(done_run, people["c2"])
    _decide(client, p1, "accept")
    response = _decide(client, p2, "swap", volunteer=p1.volunteer_id)
    assert "空余名额" in _messages(response) and "请换一位" in _messages(response)
    p2.refresh_from_db()
    assert p2.status == ProposalStatus.PROPOSED and p2.volunteer_id != p1.volunteer_id


def test_confirming_creates_pairing_proposals_and_reports_a_child_paired_meanwhile(
    tree: Any, done_run: MatchRun, people: dict[str, Any], admin_a: Any, login: Any
) -> None:
    client = login(admin_a)
    response = client.post(reverse("matching:run_accept_all", args=[done_run.pk]), follow=True)
    assert "已采纳 2 条建议" in _messages(response)
    spare = factories.make_volunteer(tree.village_a1, name="丙妈妈", capacity=2)
    factories.make_active_pairing(people["c2"], spare)

    response = client.post(reverse("matching:run_confirm", args=[done_run.pk]), follow=True)
    text = _messages(response)
    assert "已发起结对 1 条" in text
    assert "未发起：困难乙（该儿童已有待确认或进行中的结对）" in text
    pairing = Pairing.objects.get(child=people["c1"])
    assert pairing.status == PairingStatus.PROPOSED
    assert _proposal(done_run, people["c1"]).status == ProposalStatus.CONFIRMED
    assert _proposal(done_run, people["c2"]).status == ProposalStatus.ACCEPTED
    assert Pairing.objects.get(child=people["c2"]).volunteer_id == spare.pk  # untouched
    page = response.content.decode()
    assert "已发起结对" in page  # the proposal's new status in the table


def test_an_older_run_is_shown_read_only(
    done_run: MatchRun, people: dict[str, Any], admin_a: Any, login: Any
) -> None:
    run_match(actor=admin_a, district_code="500101")
    client = login(admin_a)
    page = client.get(reverse("matching:run_detail", args=[done_run.pk])).content.decode()
    assert 'id="read-only"' in page
    assert reverse("matching:run_confirm", args=[done_run.pk]) not in page
    response = client.post(reverse("matching:run_accept_all", args=[done_run.pk]), follow=True)
    assert "只能查看" in _messages(response)
    assert not MatchProposal.objects.filter(run=done_run, status=ProposalStatus.ACCEPTED).exists()


def test_proposals_are_paginated_with_must_cover_children_first(tree: Any, admin_a: Any, login: Any) -> None:
    for i in range(101):
        factories.make_child(tree.village_a2, name=f"困难{i:03d}", difficulty_life=True)
    factories.make_child(tree.village_a2, name="孤儿最后", is_scattered_orphan=True)
    run = run_match(actor=admin_a, district_code="500101")
    assert isinstance(run, MatchRun)
    client = login(admin_a)
    first = client.get(reverse("matching:run_detail", args=[run.pk])).content.decode()
    assert "孤儿最后" in first and "第 1 / 2 页" in first
    assert first.count("data-proposal=") == 100
    second = client.get(reverse("matching:run_detail", args=[run.pk]) + "?page=2").content.decode()
    assert second.count("data-proposal=") == 2 and "孤儿最后" not in second


def test_district_b_admin_gets_404_on_district_as_run_and_proposal_and_nothing_changes(
    done_run: MatchRun, people: dict[str, Any], users: dict[str, Any], login: Any
) -> None:
    client = login(users["district_b_admin"])
    p1 = _proposal(done_run, people["c1"])
    before = list(MatchProposal.objects.order_by("pk").values_list("pk", "volunteer_id", "status"))
    assert client.get(reverse("matching:run_detail", args=[done_run.pk])).status_code == 404
    assert client.get(reverse("matching:run_progress", args=[done_run.pk])).status_code == 404
    assert (
        client.post(reverse("matching:proposal_decide", args=[p1.pk]), {"decision": "accept"}).status_code
        == 404
    )
    assert client.post(reverse("matching:run_accept_all", args=[done_run.pk])).status_code == 404
    assert client.post(reverse("matching:run_confirm", args=[done_run.pk])).status_code == 404
    assert (
        reverse("matching:run_detail", args=[done_run.pk])
        not in client.get(reverse("matching:run_list")).content.decode()
    )
    assert list(MatchProposal.objects.order_by("pk").values_list("pk", "volunteer_id", "status")) == before
    assert not Pairing.objects.exists()


@pytest.mark.parametrize("role", ["town_supervisor", "village_director"])
def test_staff_below_district_cannot_open_the_matching_pages(
    done_run: MatchRun, users: dict[str, Any], login: Any, role: str
) -> None:
    client = login(users[role])
    assert client.get(reverse("matching:run_list")).status_code == 403
    assert client.get(reverse("matching:run_detail", args=[done_run.pk])).status_code == 403


def test_the_childs_file_suggests_up_to_five_mothers_with_reasons(
    tree: Any, admin_a: Any, login: Any
) -> None:
    child = factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True)
    for i in range(7):
        factories.make_volunteer(tree.village_a1, name=f"妈妈{i}", capacity=2)
    client = login(admin_a)
    page = client.get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    assert 'id="suggested-mothers"' in page
    panel = page.split('id="suggested-mothers"', 1)[1].split("</div>", 1)[0]
    assert panel.count("data-volunteer=") == 5
    assert panel.count("同村") == 5 and "当前结对 0/2" in panel
    assert reverse("pairing:propose", args=[child.pk]) in panel


def test_the_suggest_panel_is_absent_for_a_paired_child_and_for_non_admins(
    tree: Any, users: dict[str, Any], login: Any
) -> None:
    paired = factories.make_child(tree.village_a1, name="已结对", is_scattered_orphan=True)
    factories.make_active_pairing(paired, factories.make_volunteer(tree.village_a1, capacity=1))
    waiting = factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True)
    factories.make_volunteer(tree.village_a1, name="空位妈妈", capacity=2)
    admin = login(users["district_admin"])
    assert (
        'id="suggested-mothers"'
        not in admin.get(reverse("registry:child_detail", args=[paired.pk])).content.decode()
    )
    assert (
        'id="suggested-mothers"'
        in admin.get(reverse("registry:child_detail", args=[waiting.pk])).content.decode()
    )
    town = login(users["town_supervisor"])
    assert (
        'id="suggested-mothers"'
        not in town.get(reverse("registry:child_detail", args=[waiting.pk])).content.decode()
    )


def test_admins_see_the_matching_link_in_the_navigation(users: dict[str, Any], login: Any) -> None:
    assert (
        reverse("matching:run_list")
        in login(users["district_admin"]).get(reverse("accounts:home"), follow=True).content.decode()
    )
    assert (
        reverse("matching:run_list")
        not in login(users["town_supervisor"]).get(reverse("accounts:home"), follow=True).content.decode()
    )
