"""The memory budget: read from the launchpad's ``paths`` resource, the environment, or
the default, in that order."""

import dagster as dg
import pytest

from taobao_pipeline import budget
from taobao_pipeline.defs.resources import PathsResource


@pytest.fixture(autouse=True)
def _unconfigured(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(budget.ENV, raising=False)
    budget.configure(None)
    yield
    budget.configure(None)


def test_sizes_read_as_people_write_them() -> None:
    assert budget.parse_size("2GB") == 2 << 30
    assert budget.parse_size(" 1.5 GiB ") == 3 << 29
    assert budget.parse_size("800MB") == 800 << 20
    assert budget.parse_size("800m") == 800 << 20
    for bad in ("two gigabytes", "2 PB", "", "100MB"):  # the last below the minimum
        with pytest.raises(budget.BudgetError):
            budget.parse_size(bad)


def test_the_launchpad_over_the_environment_over_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The resource's ``memory_budget`` is the run's budget; empty, the environment
    variable's; unset too, the default."""
    assert budget.memory_budget() == budget.default_budget()
    monkeypatch.setenv(budget.ENV, "1GB")
    assert budget.memory_budget() == 1 << 30

    @dg.asset
    def seen(paths: PathsResource) -> int:
        return budget.memory_budget()

    def run(config: str) -> int:
        result = dg.materialize([seen], resources={"paths": PathsResource(memory_budget=config)})
        return result.output_for_node("seen")

    assert run("3GB") == 3 << 30
    assert run("") == 1 << 30  # empty: the environment's
    monkeypatch.delenv(budget.ENV)
    assert run("") == budget.default_budget()
    assert budget.batch_rows(512 << 20) < budget.batch_rows(2 << 30)


def test_a_budget_that_is_not_a_size_fails_the_run() -> None:
    @dg.asset
    def nothing(paths: PathsResource) -> None:
        return None

    with pytest.raises(dg.DagsterResourceFunctionError) as failed:
        dg.materialize([nothing], resources={"paths": PathsResource(memory_budget="lots")})
    assert "not a memory size: 'lots'" in str(failed.value.__cause__)
