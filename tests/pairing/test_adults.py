"""At 18 a young person is handed over to a growth guardian (R-11.2), not paired with a loving
mother anew — even one who stays in the register, as a full-time student may
(渝民发〔2021〕5号). The children to pair, matching, proposals and coverage all leave them out."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aixin.dashboard.selectors import overview
from aixin.lib.errors import InvalidInput
from aixin.matching.services import needy_children
from aixin.pairing.selectors import children_needing_pairing
from aixin.registry.models import Child
from tests import factories
from tests.alerts.helpers import born_turning_18_in
from tests.pairing.helpers import needy_child, propose


def grown_up(village, name: str = "已成年") -> Child:
    """An 18-year-old still in the register in the one-to-one tier (a full-time student)."""
    child = needy_child(village, name=name, birth=born_turning_18_in(-30), is_de_facto_unsupported=True)
    Child.objects.filter(pk=child.pk).update(
        care_tier="one_to_one", full_time_student=True, is_de_facto_unsupported=True, status="active"
    )
    return Child.objects.get(pk=child.pk)


def test_an_18_year_old_is_not_on_the_list_of_children_to_pair(users, tree, login):
    grown_up(tree.village_a1)
    needy_child(tree.village_a1, name="未成年", birth=born_turning_18_in(30))

    names = set(children_needing_pairing(users["district_admin"]).values_list("name", flat=True))
    page = login(users["district_admin"]).get(reverse("pairing:unpaired")).content.decode()

    assert names == {"未成年"}
    assert "未成年" in page and "已成年" not in page


def test_matching_does_not_seek_a_loving_mother_for_an_18_year_old(tree):
    grown_up(tree.village_a1)
    young = needy_child(tree.village_a1, name="未成年")

    assert list(needy_children(tree.district_a)) == [young]


def test_proposing_a_loving_mother_for_an_18_year_old_is_refused(users, tree):
    adult = grown_up(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)

    with pytest.raises(InvalidInput, match="已年满18周岁，应移交成长爱护人"):
        propose(users["district_admin"], adult, volunteer)
    assert not adult.pairings.exists()


def test_the_file_of_an_18_year_old_offers_no_loving_mothers(users, tree, login):
    adult = grown_up(tree.village_a1)
    young = needy_child(tree.village_a1, name="未成年")
    factories.make_volunteer(tree.village_a1)
    client = login(users["district_admin"])

    adult_page = client.get(reverse("registry:child_detail", args=[adult.pk])).content.decode()
    young_page = client.get(reverse("registry:child_detail", args=[young.pk])).content.decode()

    assert "推荐的爱心妈妈" in young_page
    assert "推荐的爱心妈妈" not in adult_page
    assert reverse("pairing:propose", args=[adult.pk]) not in adult_page


def test_an_18_year_old_does_not_count_among_the_children_who_must_be_paired(users, tree):
    grown_up(tree.village_a1)
    needy_child(tree.village_a1, name="未成年", is_de_facto_unsupported=True)

    numbers = overview(user=users["city_admin"], region=tree.city)

    [district] = [row for row in numbers.breakdown if row.must_cover]
    assert (district.name, district.must_cover, district.must_cover_paired) == ("万州区", 1, 0)
