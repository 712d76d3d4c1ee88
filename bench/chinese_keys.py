"""Cost of the per-value work a Chinese import adds: search and sort keys (pypinyin) and the
mis-decoding check, per distinct name, beside the cost for Latin names.

    .venv/bin/python -m bench.chinese_keys [COUNT]
"""

from __future__ import annotations

import random
import sys
import time

from core.text_encoding import misreading
from core.text_keys import search_key, sort_key

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉丹"
FIRMS = "远航科技贸易实业电子网络信息咨询服务物流医药食品机械建设发展投资文化传媒"


def names(count: int, chinese: bool, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    if chinese:
        return [
            rng.choice(SURNAMES)
            + "".join(rng.choices(GIVEN, k=2))
            + "".join(rng.choices(FIRMS, k=4))
            + "有限公司"
            for _ in range(count)
        ]
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        "".join(rng.choices(letters, k=7)).title()
        + " "
        + "".join(rng.choices(letters, k=9)).title()
        + " GmbH"
        for _ in range(count)
    ]


def per_value_ms(values: list[str]) -> dict[str, float]:
    figures = {}
    for label, work in (("keys", lambda v: (search_key(v), sort_key(v))), ("check", misreading)):
        started = time.perf_counter()
        for value in values:
            work(value)
        figures[label] = (time.perf_counter() - started) * 1000 / len(values)
    return figures


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    search_key("预热")  # pypinyin loads its dictionaries once per process
    for label, chinese in (("Chinese", True), ("Latin", False)):
        figures = per_value_ms(names(count, chinese))
        print(
            f"{label:8} {count} distinct names: keys {figures['keys']:.3f} ms, "
            f"mis-decoding check {figures['check']:.3f} ms per name"
        )


if __name__ == "__main__":
    main()
