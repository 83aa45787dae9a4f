"""The tile-grid map of China: one square per province at its approximate place.

(column, row) on an 8 x 8 grid, north at the top; neighbours stay neighbours where a
grid allows (Henan under Shanxi, Hubei under Henan, Zhejiang east of Jiangxi). No
boundary files: the squares are the map.
"""

from __future__ import annotations

import polars as pl

TILES: dict[str, tuple[int, int]] = {
    "23": (7, 0),  # Heilongjiang
    "15": (4, 1),  # Inner Mongolia
    "22": (7, 1),  # Jilin
    "65": (1, 2),  # Xinjiang
    "62": (2, 2),  # Gansu
    "64": (3, 2),  # Ningxia
    "14": (4, 2),  # Shanxi
    "11": (5, 2),  # Beijing
    "12": (6, 2),  # Tianjin
    "21": (7, 2),  # Liaoning
    "63": (2, 3),  # Qinghai
    "61": (3, 3),  # Shaanxi
    "41": (4, 3),  # Henan
    "13": (5, 3),  # Hebei
    "37": (6, 3),  # Shandong
    "54": (1, 4),  # Tibet
    "51": (2, 4),  # Sichuan
    "50": (3, 4),  # Chongqing
    "42": (4, 4),  # Hubei
    "34": (5, 4),  # Anhui
    "32": (6, 4),  # Jiangsu
    "31": (7, 4),  # Shanghai
    "53": (2, 5),  # Yunnan
    "52": (3, 5),  # Guizhou
    "43": (4, 5),  # Hunan
    "36": (5, 5),  # Jiangxi
    "33": (6, 5),  # Zhejiang
    "45": (3, 6),  # Guangxi
    "44": (4, 6),  # Guangdong
    "35": (5, 6),  # Fujian
    "46": (3, 7),  # Hainan
}


def tiles() -> pl.DataFrame:
    """code, col, row of every province's square (names: the warehouse's ``provinces``)."""
    return pl.DataFrame([{"code": c, "col": x, "row": y} for c, (x, y) in sorted(TILES.items())])
