"""Field-by-field merge of a department's row into a child, with a source priority per field
(R-4.3).

Each field has at most one master source. The master always writes its field; another source
writes a field only while the master has not set it (it fills gaps and corrects other
departments, but never overrides the master). Blank cells never erase anything: departments
send the columns they keep. Which source last set each field is kept in `Child.field_sources`.
"""

from __future__ import annotations

from typing import Any

from aixin.ingest.columns import Source

CIVIL = Source.CIVIL_AFFAIRS
EDU = Source.EDUCATION
POLICE = Source.PUBLIC_SECURITY
HEALTH = Source.HEALTH
JUSTICE = (Source.COURT, Source.PROCURATORATE)

# field → the master source. Fields absent here have no master: the latest source wins.
MASTER: dict[str, str | tuple[str, ...]] = {
    # Civil affairs: categories and guardianship (who the child lives with, where, why).
    "is_scattered_orphan": CIVIL,
    "is_other_difficulty": CIVIL,
    "other_difficulty_reasons": CIVIL,
    "difficulty_life": CIVIL,
    "guardian": CIVIL,
    "father_situation": CIVIL,
    "mother_situation": CIVIL,
    "region": CIVIL,
    "address": CIVIL,
    # Education: school, grade and dropout.
    "school": EDU,
    "grade": EDU,
    "school_stage": EDU,
    "full_time_student": EDU,
    "difficulty_study": EDU,
    # Health: disability and illness, physical and mental.
    "difficulty_physical": HEALTH,
    "difficulty_mental": HEALTH,
    "risk_psych_behaviour": HEALTH,
    # Public security: household registration and identity; harm.
    "name": POLICE,
    "household_type": POLICE,
    "ethnicity": POLICE,
    "risk_being_harmed": POLICE,
    "risk_harm_others": POLICE,
    # Courts and procuratorates: justice involvement.
    "is_justice_involved": JUSTICE,
}

PLAIN_FIELDS = (
    "ethnicity",
    "household_type",
    "address",
    "school",
    "grade",
    "school_stage",
    "full_time_student",
    "is_scattered_orphan",
    "is_other_difficulty",
    "other_difficulty_reasons",
    "is_justice_involved",
    "difficulty_life",
    "difficulty_study",
    "difficulty_physical",
    "difficulty_mental",
    "risk_psych_behaviour",
    "risk_harm_others",
    "risk_being_harmed",
)
PARENT_KEYS = {"father": "father_situation", "mother": "mother_situation"}


def is_master(field: str, source: str) -> bool:
    master = MASTER.get(field)
    return source == master or (isinstance(master, tuple) and source in master)


def may_write(field: str, source: str, field_sources: dict[str, str]) -> bool:
    """Whether `source` may write `field`, given who last wrote it."""
    if is_master(field, source):
        return True
    current = field_sources.get(field)
    return not (current is not None and is_master(field, current))


def wanted_fields(values: dict[str, Any], source: str, field_sources: dict[str, str]) -> dict[str, Any]:
    """The plain fields this row may write: present in the row and allowed by the priority."""
    return {
        name: values[name]
        for name in PLAIN_FIELDS
        if name in values and may_write(name, source, field_sources)
    }
