"""``snapcheck.torch`` imports its modules on first use: every public name resolves to its module's object."""

from __future__ import annotations

import importlib

import pytest

import snapcheck.torch as sc


@pytest.mark.parametrize("name", sc.__all__)
def test_every_public_name_resolves_to_the_object_its_module_defines(name):
    module = importlib.import_module(sc._PUBLIC[name])
    assert getattr(sc, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'assert_everything'"):
        sc.assert_everything  # noqa: B018
