"""One curated data dir per session, built from the hand-made bank with the pandas curation, the
reference data published into it first (as the deployment does in the curated bucket)."""
from __future__ import annotations

import handmade_bank
import pytest

from aml.query import curate
from aml.reference import publish
from aml_contract import pseudonym
from aml_contract.reference import ReferenceData

KEY = handmade_bank.KEY


@pytest.fixture(scope="session")
def small_bank():
    return handmade_bank.build()


def curated_zone(bank: handmade_bank.BankBuilder, root) -> curate.Curated:
    """Publish the reference data under root, curate `bank` with it and write the tables there."""
    publish.to_directory(root)
    frames = curate.curate(*bank.frames(), KEY, ReferenceData.from_directory(root))
    curate.write(frames, root)
    return frames


@pytest.fixture(scope="session")
def curated_dir(small_bank, tmp_path_factory):
    root = tmp_path_factory.mktemp("curated")
    curated_zone(small_bank, root)
    return root


@pytest.fixture(scope="session")
def pid():
    return lambda account_id: pseudonym.pseudonymise(account_id, KEY)


@pytest.fixture(scope="session")
def make_zone():
    """curated_zone(bank, root): a curated zone of one's own bank."""
    return curated_zone
