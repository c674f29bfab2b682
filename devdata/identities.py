"""Synthetic identities for demo, test and benchmark data: invented names, valid-looking ID numbers.

Never real people: names are random combinations of common characters, ID numbers are random with a correct
check digit, phone numbers use random digits.
"""

from __future__ import annotations

import datetime as dt
import random

from registry.patients import idnumber

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕玉兰晓东红梅文博子涵雨萱浩然"
    "欣怡梓轩俊杰思远佳琪宇航嘉怡一鸣婉清德胜春生秋菊冬梅金凤玉珍淑珍凤英桂芝宏伟永刚少华春华国庆"
)
RELATIONS = ("父亲", "母亲", "配偶", "子女", "兄弟姐妹", "其他亲属")
HOSPITALS = ("县精神卫生中心", "市第四人民医院", "省精神卫生中心", "市康宁医院")
STREETS = ("幸福路", "人民路", "建设路", "和平街", "东风路", "解放路", "文化巷", "新华路")


def synthetic_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def synthetic_national_id(rng: random.Random, county_code: str, birth_date: dt.date, sex: int) -> str:
    """18 characters: 6-digit county, birth date, 2 random digits, a sex-parity digit, check digit."""
    sequence = f"{rng.randrange(100):02d}"
    parity_digit = rng.choice((1, 3, 5, 7, 9) if sex == 1 else (0, 2, 4, 6, 8))
    first17 = f"{county_code[:6]}{birth_date:%Y%m%d}{sequence}{parity_digit}"
    return first17 + idnumber.check_digit(first17)


def synthetic_phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "150", "186", "177")) + f"{rng.randrange(10**8):08d}"


def synthetic_address(rng: random.Random) -> str:
    return f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号"


def synthetic_birth_date(rng: random.Random, today: dt.date, min_age: int = 16, max_age: int = 85) -> dt.date:
    days = rng.randrange(min_age * 365, max_age * 365)
    return today - dt.timedelta(days=days)
