from aixin.registry.rules import Condition
from tests import factories


def test_child_in_district_a_is_stamped_with_its_town_and_district(tree):
    child = factories.make_child(
        tree.village_a1,
        conditions=[
            Condition(parent="father", kind="dead"),
            Condition(parent="mother", kind="serious_illness"),
        ],
    )
    assert child.district_id == tree.district_a.id
    assert child.town_id == tree.town_a1.id
    assert child.is_de_facto_unsupported
    assert child.care_tier == "one_to_one"
    assert child.id_number_masked.startswith("500***")
