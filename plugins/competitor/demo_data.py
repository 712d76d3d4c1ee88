"""The demo's competitors as written: their profiles, products and prices, the intel their
SWOT analyses cite, their market shares, and how deals against them go (read by
:mod:`plugins.competitor.demo`)."""

from __future__ import annotations

from dataclasses import dataclass, field

CURRENCY = "CNY"
SEGMENTS = [("INDUSTRY", "Manufacturing"), ("REGION", "TX")]
"""The market segments with share figures (the REGION one is a region of the demo customers)."""


@dataclass(frozen=True)
class Profile:
    """One demo competitor: its profile, what we know of it, how deals against it go."""

    name: str
    website: str
    country: str
    size_band: str
    status: str
    threat: str
    description: str
    positioning: str
    channels: list[tuple[str, str]]
    campaigns: list[tuple[str, int, int | None, list[str], str]]
    """name, started (days ago), lasted (days; None: still running), channels, notes."""
    products: list[tuple[str, str, str, str, float]]
    """name, category, price eight quarters ago, currency, price change per quarter."""
    facts: list[tuple[str, str, int, str]]
    """Intel the SWOT cites: kind, summary, days ago, confidence."""
    swot: list[tuple[str, str, list[int]]]
    """kind, text, indexes into ``facts`` cited as evidence."""
    shares: dict[int, tuple[float, float, int]] = field(default_factory=dict)
    """Per index of SEGMENTS: share eight quarters ago, change per quarter, first quarter seen."""
    weight: int = 10
    """How often deals meet it, relative to the others."""
    win_rate: float = 0.5
    """Our chance of winning a deal against it (at the start; ``win_drift`` per quarter)."""
    win_drift: float = 0.0
    loss_reasons: dict[str, int] = field(default_factory=dict)


PROFILES = [
    Profile(
        name="华信软件",
        website="https://www.huaxin-soft.example.cn",
        country="CN",
        size_band="LARGE",
        status="ACTIVE",
        threat="HIGH",
        description="杭州的工业软件公司：设备监控平台和边缘网关。 Industrial software house in "
        "Hangzhou: a monitoring platform and edge gateways.",
        positioning="云平台加网关的整体方案，通过系统集成商销售。 Cloud platform bundled with "
        "gateways, sold through system integrators.",
        channels=[
            ("PARTNER", "华东系统集成商 / system integrators in East China"),
            ("ONLINE", "微信小程序商城 / WeChat mini-program store"),
        ],
        campaigns=[
            ("智造升级季 / Smart factory season", 75, 45, ["WeChat", "trade fair"], "首年八折"),
            ("Free pilot for 90 days", 20, None, ["search ads", "email"], "Gateway lent for free"),
        ],
        products=[
            ("华信云监控 HX-Cloud (年费)", "Software", "31800", CURRENCY, -0.012),
            ("HX-G5 智能网关", "Gateways", "6100", CURRENCY, 0.004),
            ("华信实施服务 Implementation", "Services", "3900", CURRENCY, 0.0),
        ],
        facts=[
            (
                "PARTNERSHIP",
                "与三家华东系统集成商签订独家代理 / exclusive deal with three "
                "integrators in East China",
                120,
                "HIGH",
            ),
            (
                "OTHER",
                "客户反映响应慢，工程师不足 / customers report slow support, too few engineers",
                45,
                "MEDIUM",
            ),
            (
                "PRODUCT_LAUNCH",
                "发布 HX-Cloud 4.0，支持私有部署 / HX-Cloud 4.0 released with on-premises option",
                30,
                "HIGH",
            ),
        ],
        swot=[
            ("STRENGTH", "Strong integrator network in East China / 集成商渠道强", [0]),
            ("STRENGTH", "Platform can be hosted on premises / 支持私有部署", [2]),
            ("WEAKNESS", "Thin service team, slow response / 服务响应慢", [1]),
            ("OPPORTUNITY", "Customers unhappy with their support / 客户不满其服务", [1]),
            ("THREAT", "Bundles gateways at cost to win the platform", []),
        ],
        shares={0: (15.5, 0.55, 0), 1: (4.0, 0.6, 2)},
        weight=25,
        win_rate=0.52,
        loss_reasons={"RELATIONSHIP": 4, "SERVICE": 2, "PRICE": 2, "PRODUCT_FIT": 1},
    ),
    Profile(
        name="宏达科技",
        website="https://www.hongda-tech.example.cn",
        country="CN",
        size_band="MEDIUM",
        status="ACTIVE",
        threat="CRITICAL",
        description="深圳的传感器和控制器厂商，价格低。 Sensor and controller maker in "
        "Shenzhen, the low-price option.",
        positioning="价格最低，快速交货。 Lowest price, delivery from stock.",
        channels=[
            ("DIRECT", "华南直销团队 / direct sales in South China"),
            ("RETAIL", "工业品电商平台 / industrial e-commerce platforms"),
        ],
        campaigns=[
            (
                "双十一工业品大促 / Singles' Day sale",
                30,
                12,
                ["e-commerce", "WeChat"],
                "传感器七折",
            ),
        ],
        products=[
            ("HD-300 工业传感器", "Sensors", "1090", CURRENCY, -0.02),
            ("HD-C6 控制器", "Controllers", "8400", CURRENCY, -0.01),
            ("HD-G1 网关", "Gateways", "5600", CURRENCY, -0.015),
        ],
        facts=[
            (
                "PRICE_CHANGE",
                "HD-300 降价 12%，华南再降 5% / HD-300 cut by 12%, another 5% in South China",
                40,
                "HIGH",
            ),
            ("OTHER", "HD-C6 现场故障率高 / HD-C6 fails often in the field", 90, "MEDIUM"),
            (
                "LOSS",
                "某汽车零部件厂因价格选择宏达 / an auto parts plant chose them on price",
                15,
                "HIGH",
            ),
        ],
        swot=[
            ("STRENGTH", "Lowest prices in the market / 价格最低", [0, 2]),
            ("WEAKNESS", "Reliability problems with HD-C6 / 控制器可靠性差", [1]),
            ("OPPORTUNITY", "Total cost of ownership argument / 总拥有成本更高", [1]),
            ("THREAT", "Price war in sensors / 传感器价格战", [0]),
        ],
        shares={0: (13.0, 0.8, 0)},
        weight=28,
        win_rate=0.48,
        win_drift=-0.012,
        loss_reasons={"PRICE": 7, "TIMING": 1, "RELATIONSHIP": 1, "OTHER": 1},
    ),
    Profile(
        name="Zenith Systems",
        website="https://www.zenith-systems.example.com",
        country="US",
        size_band="ENTERPRISE",
        status="ACTIVE",
        threat="HIGH",
        description="Global automation vendor with a full product line and a large installed base.",
        positioning="Premium, end-to-end: controllers, gateways and cloud from one vendor.",
        channels=[
            ("DIRECT", "Key account managers for large plants"),
            ("PARTNER", "Certified partners for mid-size customers"),
        ],
        campaigns=[
            ("Zenith Connect World Tour", 150, 60, ["trade fair", "webinars"], "Keynote on AI"),
            ("Trade-in programme", 60, None, ["email", "partners"], "30% off for a trade-in"),
        ],
        products=[
            ("Zenith EdgeHub 20", "Gateways", "12600", CURRENCY, 0.01),
            ("Zenith Cloud Monitor", "Software", "4900", "USD", 0.015),
            ("Zenith PLC Z8", "Controllers", "16500", CURRENCY, 0.008),
            ("Zenith Care training day", "Services", "4200", CURRENCY, 0.0),
        ],
        facts=[
            ("LEADERSHIP", "New CEO announced a focus on software margins", 100, "HIGH"),
            ("PRICE_CHANGE", "List prices up 4% from January", 25, "MEDIUM"),
            ("WIN", "Won the brewery line 3 retrofit against us", 60, "HIGH"),
        ],
        swot=[
            ("STRENGTH", "Complete product line, one vendor", [2]),
            ("WEAKNESS", "Expensive, and getting more so", [1]),
            ("OPPORTUNITY", "Mid-size customers priced out by the increase", [1, 0]),
            ("THREAT", "Installed base locks customers in", []),
        ],
        shares={0: (22.0, -0.7, 0), 1: (26.0, -0.4, 0)},
        weight=22,
        win_rate=0.55,
        loss_reasons={"PRODUCT_FIT": 4, "RELATIONSHIP": 3, "NO_DECISION": 1},
    ),
    Profile(
        name="Northwind Automation",
        website="https://www.northwind-automation.example.com",
        country="DE",
        size_band="LARGE",
        status="ACTIVE",
        threat="MEDIUM",
        description="German maker of sensors and controllers for process industries.",
        positioning="Engineering quality and long product life.",
        channels=[("DIRECT", "Regional offices"), ("PARTNER", "Distributors")],
        campaigns=[("Hannover Messe booth", 230, 5, ["trade fair"], "")],
        products=[
            ("NW Sensor S4", "Sensors", "2250", CURRENCY, 0.005),
            ("NW Controller NC-10", "Controllers", "9900", CURRENCY, 0.0),
        ],
        facts=[
            ("PRODUCT_LAUNCH", "NC-10 certified for hazardous areas", 70, "HIGH"),
            ("OTHER", "Delivery times of 10 to 14 weeks reported by distributors", 35, "MEDIUM"),
        ],
        swot=[
            ("STRENGTH", "Certified for hazardous areas", [0]),
            ("WEAKNESS", "Long delivery times", [1]),
            ("OPPORTUNITY", "Offer delivery from stock", [1]),
        ],
        shares={0: (11.0, -0.3, 0), 1: (14.0, 0.2, 0)},
        weight=17,
        win_rate=0.64,
        loss_reasons={"PRODUCT_FIT": 3, "PRICE": 2, "TIMING": 2},
    ),
    Profile(
        name="Apex Controls",
        website="https://www.apex-controls.example.com",
        country="US",
        size_band="SMALL",
        status="WATCHING",
        threat="LOW",
        description="Start-up selling small PLCs online.",
        positioning="Cheap controllers for small machines, bought online.",
        channels=[("ONLINE", "Own web shop")],
        campaigns=[],
        products=[
            ("Apex PLC Mini", "Controllers", "7400", CURRENCY, -0.005),
            ("Apex Spare Kit", "Parts", "690", CURRENCY, 0.0),
        ],
        facts=[("PARTNERSHIP", "Listed on a large industrial web shop", 50, "LOW")],
        swot=[
            ("STRENGTH", "Easy to buy online", [0]),
            ("WEAKNESS", "No service organisation", []),
        ],
        shares={0: (2.5, 0.2, 3), 1: (5.0, 0.3, 1)},
        weight=8,
        win_rate=0.74,
        loss_reasons={"PRICE": 3, "NO_DECISION": 2},
    ),
]
OURS = {0: (27.0, 0.6, 0), 1: (31.0, 0.3, 0)}
"""Our own share per segment: eight quarters ago, change per quarter, first quarter seen."""

FILLER = {  # intel of every kind, for the log (``{name}``: the competitor)
    "PRICE_CHANGE": ["{name} 在华东报价下调 / {name} quoted lower in East China"],
    "PRODUCT_LAUNCH": ["{name} showed a new product at a trade fair", "{name} 发布新版本"],
    "CAMPAIGN": ["{name} ran search ads on our brand name", "{name} 在微信投放广告"],
    "PARTNERSHIP": ["{name} signed a new distributor", "{name} 与高校成立联合实验室"],
    "LEADERSHIP": ["{name} hired a new head of sales", "{name} 销售总监离职"],
    "WIN": ["{name} won a tender we did not bid for", "{name} 中标某市水务项目"],
    "LOSS": ["{name} lost a renewal to us", "{name} 失去一个老客户"],
    "OTHER": ["Rumour: {name} is looking for investors", "{name} 招聘大量现场工程师"],
}
REASON_TEXTS = {
    "PRICE": ["Their offer was 15% lower", "对方报价低很多"],
    "PRODUCT_FIT": ["Needed a feature we lack", "产品功能更符合需求"],
    "RELATIONSHIP": ["Long relationship with their account manager", "客户与对方关系深"],
    "SERVICE": ["Better local service", "本地服务更快"],
    "TIMING": ["They could deliver a month earlier", "交货期更短"],
    "OTHER": ["The customer's parent company decided", "集团总部统一采购"],
}
"""Reasons in words; one of reason OTHER always has one (the API requires it)."""
WON_REASONS = {"PRODUCT_FIT": 4, "SERVICE": 3, "RELATIONSHIP": 2, "PRICE": 1}
CONFIDENCES = ("LOW", "MEDIUM", "HIGH")
