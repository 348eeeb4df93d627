"""Aixin (爱心): the digital platform for the 渝好爱心妈妈 pairing-care program."""
