"""Hostile XML shared by the parser's tests and the API's: they must be refused the same way."""

from __future__ import annotations


def billion_laughs(root: str) -> str:
    """Ten levels of entities that expand tenfold each: a billion 'lol's inside ``<root>``."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10 if level > 1 else "&lol;" * 10}">'
        for level in range(1, 10)
    ]
    declarations = "\n ".join(entities)
    return f'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n {declarations}\n]>\n{root.replace("BOMB", "&lol9;")}\n'
