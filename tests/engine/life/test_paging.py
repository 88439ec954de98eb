"""engine.life.paging: WHERE building and LIKE escaping (pure)."""

from __future__ import annotations

from engine.life.paging import Filter, like_part


def test_filter_joins_terms_with_and_and_keeps_parameter_order():
    where = Filter().where("a = ?", 1).where("b BETWEEN ? AND ?", 2, 3)
    assert where.sql() == " WHERE a = ? AND b BETWEEN ? AND ?" and where.params == (1, 2, 3)
    assert Filter().sql() == ""


def test_like_part_escapes_wildcards_and_the_escape_character():
    assert like_part("a_b%c\\d") == "%a\\_b\\%c\\\\d%"
