"""Aixin (爱心): the digital platform for the 渝好爱心妈妈 pairing-care program."""

from aixin import native

native.install()  # the compiled import modules, when built from these very sources
