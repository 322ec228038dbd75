"""Declared schemas: type names in families, and the schema_mismatch condition of an objective."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from monitor.contracts.schema import TypeFamily, family_of, matches, mismatch
from monitor.slo import Counts, Observations, Status, evaluate_objective

AT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("written", "family"), [
    ("VARCHAR(20)", TypeFamily.STRING), ("text", TypeFamily.STRING),
    ("character varying(8)", TypeFamily.STRING), ("BIGINT", TypeFamily.INTEGER),
    ("int unsigned", TypeFamily.INTEGER), ("NUMERIC(10, 2)", TypeFamily.NUMBER),
    ("decimal", TypeFamily.NUMBER), ("double precision", TypeFamily.NUMBER), ("BOOLEAN", TypeFamily.BOOLEAN),
    ("DATE", TypeFamily.DATE), ("timestamp(6) with time zone", TypeFamily.TIMESTAMP),
    ("DATETIME(6)", TypeFamily.TIMESTAMP), ("uuid", None)])
def test_a_type_name_belongs_to_its_family_whatever_its_length_or_case(written, family):
    assert family_of(written) is family


def test_a_declared_family_matches_a_found_family_and_an_unknown_type_its_own_name():
    assert matches("string", {TypeFamily.STRING}, "varchar(20)")
    assert not matches("decimal", {TypeFamily.STRING}, "text")
    assert matches("uuid", set(), "UUID")
    assert not matches("uuid", {TypeFamily.STRING}, "varchar(36)")
    assert mismatch("invoices.amount", "decimal", "text") == "invoices.amount: declared decimal, found text"
    assert mismatch("invoices.updated_at", "timestamp", None) == "invoices.updated_at: missing"


def evaluate(findings: tuple[str, ...], in_force: bool = True):
    counts = {timedelta(days=30): Counts(100, 100)}
    return evaluate_objective(target=Decimal("0.99"), window=timedelta(days=30), at=AT, in_force=in_force,
                              observations=Observations(counts=counts, schema_mismatch=findings))


def test_a_schema_mismatch_is_a_ticket_condition_that_puts_a_met_objective_at_risk():
    evaluation = evaluate(("invoices.updated_at: missing",))

    assert [(c.name, c.severity) for c in evaluation.conditions] == [("schema_mismatch", "ticket")]
    assert evaluation.status is Status.AT_RISK
    assert evaluation.schema_mismatch == ("invoices.updated_at: missing",)
    assert evaluation.compliance == 1.0  # not an event: the budget does not count it


def test_no_findings_and_an_objective_not_in_force_hold_no_schema_condition():
    assert evaluate(()).conditions == ()
    assert evaluate(("invoices.updated_at: missing",), in_force=False).conditions == ()
