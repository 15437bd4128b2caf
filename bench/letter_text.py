"""Realistic, varied text for the generated letters of the benchmarks (not a test).

Real letters to the 区长信箱 almost never share a clause (the text between two punctuation
marks): only greetings, closings and the units' stock sentences repeat. The redaction stage
caches its work per distinct clause, so a generator with small phrase pools makes the build
look faster than it is. Here every clause is put together from several slots — a date, a
span of time or a number, and who, where, what from pools of a few dozen. Across 10 000
letters (seed 5 of site_bench) about 2.6 % of the body clauses are repeats, leaving out the
greetings, closings and the phone number's digit groups (with those: about 9 %).

    topic = pick_topic(rng)                      # or TOPICS[i % len(TOPICS)]
    title(rng, topic, place=..., road=..., kind="complaint")
    body(rng, topic=topic, kind="complaint", place=..., road=..., building=...,
         writer_name=..., neighbour=..., phone=...)
    reply(rng, topic, title=..., place=..., road=..., unit=..., received=...)

Deterministic given the `random.Random` passed in. No real person's name: the writer's and
the neighbour's names come from the caller; staff appear only as surname + title (林经理),
with surnames writers never have (see site_bench._name).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

Slot = str | Sequence[str] | Callable[[random.Random], str]

# How the redaction stage splits a text into clauses (letterbox.privacy.names).
CLAUSE = re.compile(r"[^，,、：:；;。！？!?\s“”\"‘’'《》〈〉「」『』（）()【】\[\]…]+")

# --------------------------------------------------------------------------- numbers and dates

_CN = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """0..99 in Chinese numerals."""
    if n < 10:
        return _CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")


def _num(lo: int, hi: int) -> Callable[[random.Random], str]:
    return lambda rng: str(rng.randint(lo, hi))


def _count(lo: int, hi: int) -> Callable[[random.Random], str]:
    """A count as people write it: 3 or 三, 两 for 2."""
    def pick(rng: random.Random) -> str:
        n = rng.randint(lo, hi)
        if rng.random() < 0.5:
            return str(n)
        return "两" if n == 2 else _cn(n)
    return pick


def _about(lo: int, hi: int, step: int = 1) -> Callable[[random.Random], str]:
    """A rough figure: 30多, 近40, 四五十, 60."""
    def pick(rng: random.Random) -> str:
        n = rng.randrange(lo, hi + 1, step)
        form = rng.randrange(4)
        if form == 0:
            return f"{n}多"
        if form == 1:
            return f"近{n}"
        if form == 2 and n % 10 == 0 and 20 <= n < 90:
            return f"{_cn(n // 10)}{_cn(n // 10 + 1)}十"
        return str(n)
    return pick


def _when(rng: random.Random) -> str:
    """A day in the past, as letters name it: mostly month and day (a few thousand forms)."""
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    if rng.random() < 0.8:
        return rng.choice((
            f"{m}月{d}日", f"{m}月{d}号", f"今年{m}月{d}日", f"去年{m}月{d}号", f"{m}月{d}日那天",
            f"{m}月{d}日上午", f"{m}月{d}日下午", f"大概{m}月{d}号", f"{m}月{d}号晚上", f"{m}月{d}号中午",
            f"{m}月{d}日一早", f"{m}月{d}号傍晚",
        ))
    return rng.choice((
        f"上个月{d}号", f"{m}月{rng.choice('上中下')}旬", f"{rng.randint(2, 29)}天前", f"{m}月底",
        f"上周{rng.choice('一二三四五六日')}", f"{m}月初的一天", f"前{_cn(rng.randint(3, 9))}天",
        f"{rng.randint(2, 6)}个星期前", f"去年{m}月{rng.choice('上中下')}旬",
    ))


def _since(rng: random.Random) -> str:
    """A span up to now: mostly from a month and day (a few thousand forms)."""
    m, d, n = rng.randint(1, 12), rng.randint(1, 28), rng.randint(2, 11)
    if rng.random() < 0.75:
        return rng.choice((
            f"从{m}月{d}日开始", f"打{m}月{d}号起", f"{m}月{d}号到现在", f"自从去年{m}月{d}日",
            f"从{m}月{d}号那天起", f"从去年{m}月{d}号到现在", f"自{m}月{d}日以来", f"{m}月{d}日以后",
            f"从{m}月{d}号算起", f"打去年{m}月{d}日开始",
        ))
    return rng.choice((
        f"从{m}月份起", f"这{_cn(n) if n != 2 else '两'}个月来", f"前前后后{n}个多星期", f"已经快{n}个月了",
        f"从去年{m}月到现在", f"连着{n + 3}天", f"自打{m}月中旬以来", f"将近{n * 10}天了",
        f"从{rng.randint(2016, 2024)}年起", f"最近{n}个星期", f"这{n + 1}年多", f"这{n * 5}天里",
    ))


def _clock(rng: random.Random) -> str:
    h = rng.randint(1, 11)
    return rng.choice((
        f"晚上{h % 4 + 8}点多", f"夜里{h % 3 + 10}点左右", f"凌晨{h % 5 + 1}点{rng.choice(('', '半', '多'))}",
        f"早上{h % 4 + 5}点{rng.randint(1, 5) * 10}分", f"中午{h % 2 + 12}点前后",
        f"下午{h % 5 + 1}点到{h % 5 + 3}点之间", f"傍晚{h % 3 + 5}点以后", f"每天{h % 4 + 6}点钟",
        f"周末{rng.choice('上下')}午", f"一到晚上{h % 4 + 7}点", f"晚上{h % 4 + 8}点{rng.randint(1, 5) * 10}分",
        f"夜里{h % 3 + 11}点到凌晨{h % 4 + 1}点",
    ))


# --------------------------------------------------------------------------- generic pools

GREETINGS = ("尊敬的区长：", "区长您好！", "尊敬的领导：", "尊敬的区长：您好！", "您好！",
             "尊敬的区政府领导：", "领导您好！")
THANKS = ("谢谢！", "盼复！", "谢谢领导！", "麻烦了，谢谢！", "此致敬礼！", "盼早日答复，谢谢！",
          "万分感谢！", "谢谢您！")

GENERIC: dict[str, Slot] = {
    "when": _when, "since": _since, "clock": _clock, "m": _num(1, 12), "d": _num(1, 28),
    "count": _count(2, 9), "few": _count(2, 5), "n": _num(2, 9), "nn": _num(10, 60),
    "bno": _num(1, 30), "floor": _num(2, 18), "big": _about(20, 90, 10), "metres": _num(20, 400),
    "money": _num(150, 900), "year": _num(2008, 2023), "age": _num(35, 88), "area": _num(48, 136),
    "person": (
        "我家八十多岁的老母亲", "家里刚满月的孩子", "我爱人", "上初三的女儿", "一楼的几位老人",
        "楼上做透析的病人", "上早班的年轻人", "腿脚不便的老党员", "带孩子的年轻妈妈", "刚做完手术的老伴",
        "上小学的孙子", "在医院上夜班的儿媳", "楼里的退休教师", "我们单元的独居老人", "租房住的打工者",
        "小区里的残疾人", "附近幼儿园的孩子", "周边的个体商户", "送外卖的小伙子", "住顶楼的老两口",
        "我父亲", "隔壁楼的孕妇", "接送孩子的老人", "有高血压的岳母", "备考的高三学生", "夜班回家的护士",
        "在门口摆摊的大姐", "开出租车的邻居", "刚搬来的小两口", "坐轮椅的老人", "上网课的孩子们",
        "七十多岁的岳父", "在家养病的老伴", "早上晨练的老人们", "放学回家的学生", "楼里几个老住户",
        "上夜班的儿子", "刚上幼儿园的外孙女", "患哮喘的小孙女", "做康复训练的父亲", "快递站的小哥",
        "对面超市的老板", "腿上打着钢板的老伴", "刚生完二胎的女儿", "卖早点的两口子",
    ),
    "we": ("我们", "全家人", "一家老小", "楼里的住户", "我和老伴", "我们{few}家", "整个单元的人",
           "周围的邻居", "我们这些老住户", "{big}户居民", "我和爱人", "大伙儿", "我们这栋楼的人"),
    "feel": (
        "心里特别着急", "实在是没办法了", "意见都很大", "真是苦不堪言", "憋了一肚子火",
        "天天提心吊胆", "晚上根本睡不好", "觉得很寒心", "越想越窝火", "已经忍无可忍", "都快崩溃了",
        "为这事没少吵架", "真怕哪天出大事", "实在看不下去了", "感觉投诉无门", "跟着受罪",
        "心里很不是滋味", "感觉没人当回事", "也不知道该找谁", "只好来麻烦领导", "急得直掉眼泪",
        "天天在群里抱怨", "闹出了不少矛盾", "有人已经想搬走了", "血压都高了", "对物业彻底失望了",
        "心里一直悬着", "生活质量大打折扣", "正常生活都受影响", "心里堵得慌", "一肚子委屈没处说",
        "想想都后怕", "实在熬不下去了", "连觉都睡不安稳", "吃饭都不香",
    ),
    "lead": (
        "最让人担心的是", "更气人的是", "尤其是", "关键是", "而且", "另外", "再说", "偏偏", "结果",
        "没想到", "可是", "特别是", "要命的是", "我们发现", "我注意到", "听人说", "据我观察", "说句实话",
        "不瞒您说", "更让人想不通的是", "说实在的", "让人头疼的是", "还有一个情况是", "您可能不知道",
        "值得一提的是", "据我所知", "顺便说一下", "楼里人都知道", "大伙儿都说", "现在倒好",
    ),
    "observe": (
        "专门拍了照片", "下楼转了一圈", "拿手机录了视频", "特意记了时间", "找人一起看了",
        "跟着物业师傅上去看过", "在小区群里问了问", "用温度计量过", "拿尺子比划过", "挨家问了问",
        "问了好几家住户", "在楼下等了半个小时", "跟社区网格员说过", "给几户邻居打了电话",
        "把情况写在了本子上", "叫上邻居一起去看了",
    ),
    # What the writer did about it: each with a wide slot, as the frames put no date before it.
    "contact": (
        "{when}打了12345热线", "{since}给{party}打过{count}次电话", "{when}到{party}当面反映过",
        "{when}在社区微信群里@过{party}", "{when}写了书面材料交给{party}", "{since}找社区网格员反映过{count}次",
        "{since}去街道办跑了{count}趟", "{when}在市长热线网站上留过言", "{when}和{few}家邻居一起找过{party}",
        "{when}托熟人问过{party}", "{when}在业主群里发了{count}张照片", "{when}给{party}递交过{big}位居民签名的联名信",
        "{when}把视频发给了{party}", "在{when}的居民议事会上提过", "{when}跟来小区检查的工作人员说过",
        "{when}拨打过{party}的投诉电话", "{when}去{party}办公室找过负责人", "{since}给{party}发过{count}条短信",
        "{when}请社区主任帮忙转达给{party}", "{when}在政务服务网上提交过诉求", "{since}打了不下{count}次12345",
    ),
    "response": (
        "答应{count}天内解决", "派人来看了一眼就走了", "说在研究方案让我们等到{m}月底",
        "让我们再等{count}个星期", "把事情推给了{other}", "电话打了{count}次都没人接", "接电话的人很不耐烦",
        "说{few}天之内一定处理", "登记了一下就没了下文", "来了{few}个人拍了几张照片",
        "只是口头答应了一下", "说这事不归他们管", "说要等{other}开会研究", "接电话的人换了{count}个",
        "说{m}月{d}号之前一定解决", "回访时说问题已经处理完了", "敷衍了{few}句就挂了电话",
        "说要请示{other}", "让我们去找{other}", "派来的师傅说{few}天后再来", "说要走程序",
    ),
    "outcome": (
        "到{when}{party}也没见动静", "可{since}{where}还是老样子", "{when}修过一次过了{count}天又恢复原样",
        "到{when}{where}的问题一点也没解决", "{since}{party}没有任何答复", "{when}好了没{count}天又不行了",
        "{when}以后{party}再也没来过人", "从{when}拖了{count}个月最后不了了之", "{since}{where}反而越来越严重",
        "{when}以后{party}就不管了", "拖到{when}{party}还是没结果", "从{when}等了{count}个星期也没回音",
        "到{when}再打{party}电话就推说不清楚", "{party}{since}一次都没回复过",
    ),
    "plea": ("恳请", "希望", "请", "麻烦", "盼望", "强烈要求", "再次恳请", "希望区里", "请领导出面", "拜托",
             "请有关部门", "希望街道", "诚恳地请求"),
    "dl": ("在{when}前", "{count}天之内", "赶在{m}月{d}号前", "尽快", "最迟{m}月{d}日前", "抓紧", "在{count}个星期内",
           "争取在{m}月{d}日以前", "", "务必在{m}月底前", "{m}月{d}号之前"),
    "because": ("{person}{since}实在等不起了", "{we}{since}已经等得太久了", "眼看{m}月{d}号就到了{we}还在等",
                "{since}{we}一直在盼着", "{person}的身体{since}越来越差", "再拖下去{person}还会{impact}",
                "{we}{since}{feel}", "别让{person}{since}再受罪了", "{we}从{when}等到现在"),
    "ask_generic": (
        "派人到{place}{bno}号楼现场看看", "给{we}一个明确的时间表", "督促{party}把{bno}号楼的事落实",
        "给{big}户居民一个说法", "体谅{person}的难处", "把处理结果告诉{big}户居民",
        "协调{party}和{other}一起拿出方案", "让{party}和{other}别再互相推诿",
        "一查到底给{we}一个交代", "上门听听{we}的意见", "把{place}{bno}号楼的问题彻底解决",
    ),
    "q_lead": ("想咨询一下", "我想请问", "请问", "想了解一下", "麻烦告诉我", "我想知道", "冒昧问一下",
               "再问一下", "顺便问问", "也想请教"),
    "q_ctx": ("像我们{place}{bno}号楼这种情况", "我们这种{year}年建成的{floor}层老楼", "{since}一直这样的话",
              "{we}{since}这种情况", "像我家这样{few}口人住{floor}楼的", "如果拖到{m}月{d}号还不解决",
              "我今年{age}岁了{since}一直这样", "按{year}年{m}月的规定", "{when}已经反映过的"),
    "s_lead": ("建议", "我建议", "能不能考虑", "可否", "希望能", "建议区里", "我觉得可以", "是不是可以"),
    "s_when": ("在{m}月{d}日之前", "从明年{m}月{d}日起", "今年{m}月{d}号前", "每年{m}月到{m2}月",
               "利用{m}月到{m2}月的空档", "先在{place}{bno}号楼试点", "趁着{place}{year}年改造的机会",
               "用{count}个月时间在{road}一带", "分{few}步在{count}个月内"),
    "m2": _num(1, 12),
    "intro_tail": (
        "{year}年{m}月从{origin}搬过来的", "是{year}年{m}月入住{place}的业主今年{age}岁", "退休前在{road}的{work}干了{nn}年",
        "在{road}开了{count}年{shop}离{place}不到{metres}米", "一家{few}口住一套{area}平米的房子在{floor}楼", "{year}年{m}月在这里买了{area}平米的二手房",
        "在{place}住了{nn}年今年{age}岁", "{year}年{m}月从{origin}来这里打工", "是{work}的退休职工今年{age}岁住在{floor}楼",
        "{year}年起和{person}一起住在{floor}楼", "{year}年{m}月租住在这里月租{money}元", "{year}年{m}月买的{area}平米的房子住在{floor}楼",
    ),
    "origin": ("林州", "汤阴", "滑县", "内黄", "安阳县", "鹤壁", "新乡", "濮阳", "老城区", "殷都区", "文峰区",
               "北关区", "邯郸", "长治", "乡下老家", "外地", "水冶镇", "曲沟镇", "开封", "郑州"),
    "work": ("纺织厂", "钢厂", "机械厂", "化肥厂", "供销社", "粮站", "医院", "小学", "运输公司", "百货大楼",
             "电厂", "棉纺厂", "建筑公司", "自来水公司", "邮局", "汽车站", "农机站", "印刷厂"),
    "shop": ("小超市", "早餐店", "五金店", "理发店", "修车铺", "干洗店", "药店", "面馆", "水果店", "文具店",
             "烟酒店", "快递代收点", "服装店", "裁缝铺"),
    "staff": (
        "物业的{sname}经理", "社区的{sname}主任", "片区的{sname}师傅", "{sname}队长", "{sname}科长",
        "网格员小{sname}", "物业管家小{sname}", "维修班的{sname}师傅", "值班的{sname}主任",
    ),
    # Staff surnames only (林经理): never followed by a given name, never a writer's surname.
    "sname": tuple("林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"),
    "nb_tail": (
        "{since}{person}{impact}", "他们{contact}", "两家人{since}{feel}", "他们家{person}{when}也{impact}",
        "我们商量着{when}一起去找{party}", "他们{when}也{observe}", "他们家{few}口人{since}一直忍着",
        "他家{person}{since}{feel}", "他们{since}{contact}", "我们{when}还一起找过{staff}",
    ),
}
# The stock parts of a letter and of a reply: they repeat in real letters too.
_STOCK_TEXTS = GREETINGS + THANKS


@dataclass(frozen=True)
class Topic:
    key: str
    titles: tuple[str, ...]
    opening: tuple[str, ...]
    slots: Mapping[str, Slot]
    depts: tuple[str, ...]  # who handles it (the first leads when no unit is given)
    checked: tuple[str, ...]  # what was inspected (reply)
    found: tuple[str, ...]  # what was found (reply)
    measures: tuple[str, ...]  # what was done (reply)
    next_steps: tuple[str, ...]  # what will be done (reply)


_ROADS2 = ("中州路", "红旗路", "东风路", "黄河路", "解放路", "光明路", "朝霞路", "梅园路", "文昌大道", "彰德路")

TOPICS: tuple[Topic, ...] = (
    Topic(
        "供暖",
        titles=("{place}{bno}号楼暖气不热", "关于{place}供暖温度不达标的问题", "{place}供暖室温只有{temp}度",
                "反映{place}{bno}号楼供暖不热", "{place}部分楼栋供暖不达标", "交了{heatfee}元取暖费暖气却不热",
                "{place}{bno}号楼供暖问题", "咨询供暖不达标退费的问题", "{place}暖气{since}一直不热"),
        opening=("{place}{hm}月{d}日开始供暖，可{since}{where}{symptom}，{lead}{where}{symptom}。",
                 "我家{year}年以来每年交{heatfee}元取暖费，但{since}{where}{symptom}，{where}{symptom}。",
                 "入冬以来{place}{bno}号楼好几个单元{symptom}，{since}{where}{symptom}。",
                 "今年{place}的供暖{since}真让人寒心，{since}{where}{symptom}，{we}{since}{feel}。"),
        slots={
            "temp": _num(11, 17), "hot": _num(20, 27), "heatfee": _num(1200, 3200), "hm": _num(10, 11),
            "party": ("供热公司", "热力公司", "换热站", "物业", "热力公司客服", "供热公司片区维修班"),
            "other": ("物业", "社区", "供热公司", "开发商", "热力站"),
            "where": ("我家", "我们单元", "{bno}号楼{few}单元", "整栋楼", "我们这栋楼{floor}楼往上", "北边的卧室",
                      "我家客厅", "楼里不少人家", "{place}{bno}号楼", "我们{floor}楼这一层", "西户"),
            "symptom": (
                "暖气片上半截热下半截凉", "屋里温度只有{temp}度左右", "白天摸着暖气只是温的",
                "暖气管子一直咕咕响", "穿着棉袄还冷", "地暖踩上去冰凉", "测了{count}次室温都不到{temp}度",
                "暖气时热时不热", "最冷那几天暖气反而更凉", "暖气片根本不热", "室温比规定的18度低了好几度",
                "放了水以后也没好转", "温度计一直停在{temp}度", "冷得待不住人", "暖气片摸上去跟没供暖一样",
                "回水管冰凉", "早晚温度只有{temp}度上下", "一点热乎气都没有",
            ),
            "impact": ("只能整天开着电暖器", "一个月电费多花了{money}元", "感冒发烧了{count}回",
                       "关节炎又犯了", "晚上睡觉要盖三床被子", "住的屋里墙角返潮发霉", "做饭洗碗手冻得通红",
                       "在家都得戴着手套", "开电暖器把电闸都烧跳了", "只好搬到亲戚家住了{count}天"),
            "excuse": ("我们楼在管网末端压力不够", "是住户自己私改了管道", "今年煤价涨了只能这样",
                       "要等整个片区调试完", "是楼里有人没交费影响了循环", "得等物业配合才能进户",
                       "管网太老了没法彻底解决", "他们检测的温度是达标的", "要排队等维修师傅",
                       "需要先把暖气里的空气放掉", "一次网的水温已经到顶了"),
            "detail": ("我家在{floor}楼整栋楼{big}户有一大半不热", "换热站离我们{bno}号楼有{metres}米远",
                       "同一单元的{floor}楼反倒热得开窗室温有{hot}度", "{when}{staff}来测过一次温是{temp}度",
                       "温度计是{when}在超市花{nn}块钱买的", "我们{bno}号楼是{year}年的老楼",
                       "{when}开始{staff}说要上门放气", "楼下{floor}楼的那家{when}装了电暖气"),
            "ask": ("督促供热公司到{bno}号楼入户测温", "把{place}的室温提到18度以上", "按规定退还{year}年的部分取暖费",
                    "对{place}的老旧管网进行改造", "让热力公司给{bno}号楼{big}户居民一个准确的说法", "安排人到{bno}号楼逐户排查"),
            "question": ("供暖温度不达标能不能申请退费", "室温测量按什么标准执行", "老旧管网改造有没有列入今年的计划",
                         "私改管道的住户由谁来管", "测温要找哪个部门才算数", "退费要准备什么材料"),
            "suggest": ("在每个单元安装室温监测设备", "公开各小区的供暖温度检测结果", "把老旧管网纳入改造计划",
                        "设立供暖问题的专门回访机制", "供暖前先组织试水打压", "对不达标的小区按天核减取暖费"),
        },
        depts=("区住房和城乡建设局", "热力公司", "街道办事处", "社区居委会"),
        checked=("{place}{bno}号楼的单元供热管道", "来信人家中及同单元{few}户居民的室温", "{place}换热站{m}月以来的运行记录",
                 "{bno}号楼的供热立管和入户阀门"),
        found=("{bno}号楼处于管网末端循环不畅", "{bno}号楼{few}单元有{count}处入户阀门堵塞", "来信人家中测温为{temp}度确实低于标准",
               "{bno}号楼单元立管内杂质较多", "{bno}号楼有{few}户私自改动暖气管道影响了整个单元的循环"),
        measures=("对{bno}号楼{few}个单元的立管进行了冲洗", "更换了{count}个损坏的入户阀门", "把换热站二次网供水温度调高了{few}度",
                  "增加了一台{nn}千瓦的循环泵", "对{bno}号楼{big}户逐户排了气", "对私改管道的{few}户住户进行了劝导",
                  "安排{few}名专人每天回访测温"),
        next_steps=("把{place}老旧管网列入{nyear}年改造计划", "对不达标的{count}天按规定核减取暖费", "在{bno}号楼安装室温监测点{few}个"),
    ),
    Topic(
        "路灯",
        titles=("{road}路灯不亮", "{road}{spot}路灯损坏", "关于{road}路灯长期不亮的问题", "{place}门口路灯坏了{count}个月",
                "反映{road}夜间照明问题", "建议在{road}{spot}增设路灯", "{road}{count}盏路灯不亮"),
        opening=("{road}{spot}的路灯{since}{symptom}，{lead}{symptom}。",
                 "{since}{road}靠近{place}的一段{symptom}，{clock}出门很不方便。",
                 "我常在{clock}经过{road}{spot}，那里{since}{symptom}，{lead}{symptom}。",
                 "{since}{where}{symptom}，{lead}{where}{symptom}。"),
        slots={
            "spot": ("与{road2}交叉口", "东段", "西段", "公交站附近", "桥下", "加油站对面", "菜市场门口",
                     "小学门口", "北段的弯道", "铁路桥下面", "{place}东门外"),
            "road2": _ROADS2, "h": _num(8, 11),
            "where": ("{road}{spot}", "{place}门口那段路", "{road}往东的{metres}米", "{road}南侧人行道",
                      "我们{place}西门外", "{road}{spot}的{metres}米"),
            "party": ("路灯管理所", "城管局", "市政维修队", "街道办", "物业"),
            "other": ("供电公司", "城管局", "开发商", "交通局"),
            "symptom": ("一连{count}盏都不亮", "{count}盏灯有的亮有的不亮", "一到晚上就黑乎乎一片", "灯杆倒了一半也没人扶",
                        "灯罩碎了{count}个", "只亮到晚上{h}点就灭了", "白天亮着晚上反倒不亮", "电线裸露在外面{count}处",
                        "{metres}米长的路只有一盏灯亮", "灯一闪一闪的", "灯杆上的检修门都锈掉了",
                        "黑得连路面的坑都看不见", "灯头歪了{count}个"),
            "impact": ("走夜路摔了一跤", "骑电动车差点撞上行人", "只能打着手电筒走路", "不敢一个人出门遛弯",
                       "被路边的台阶绊倒过", "晚上放学回家心里发怵", "骑车掉进过路边的坑里", "回家要绕{metres}米远"),
            "excuse": ("线路被挖断了要重新铺设", "这段路还没移交", "灯具要统一采购", "电费没人交",
                       "要等供电公司查线路", "这条路归开发区管", "最近维修任务排满了"),
            "detail": ("那一段{metres}米有{count}个公交站", "附近{metres}米内有{few}所学校", "前后{metres}米没有一盏亮灯",
                       "灯杆上贴的维修电话{when}打了{count}次都打不通", "{when}那里出过一起事故",
                       "{when}{staff}说灯具{m}月份才能到货", "路对面的{count}盏灯{since}倒是整夜亮着"),
            "ask": ("修复{road}{spot}的路灯", "对{road}全线路灯检修一遍", "把{road}{spot}的灯杆扶正加固",
                    "在{road}{spot}增设{count}盏路灯", "公布{road}路灯的报修电话"),
            "question": ("路灯坏了应该向哪个部门报修", "{road}的路灯归哪个单位管理", "路灯的维修时限是多少天",
                         "新修的路什么时候装路灯"),
            "suggest": ("推广太阳能路灯", "建立路灯损坏的网上报修渠道", "在{road}{spot}加装警示灯", "按季度巡查路灯",
                        "把路灯报修电话贴在灯杆上"),
        },
        depts=("区城市管理局", "路灯管理所", "街道办事处"),
        checked=("{road}{spot}一带的{nn}盏路灯", "{road}{metres}米路段的路灯供电线路", "{road}{spot}的配电箱"),
        found=("{road}有{count}盏路灯的灯头老化损坏", "{road}{spot}一段{metres}米的地下电缆被施工挖断", "{road}配电箱内的控制器故障",
               "{road}{spot}有{few}根灯杆基础松动"),
        measures=("更换了{count}套{nn}瓦的LED灯具", "重新敷设电缆{metres}米", "更换了{road}配电箱的控制器", "对{few}根倾斜的灯杆进行了加固",
                  "把{road}的亮灯时间调整为全夜", "在{road}{spot}新装路灯{few}盏"),
        next_steps=("把{road}纳入每周{few}次的夜间巡查", "在{road}{spot}增设{count}盏路灯", "在{nyear}年对{road}路灯进行整体改造"),
    ),
    Topic(
        "噪音",
        titles=("{road}工地夜间施工扰民", "{place}周边噪音扰民", "关于{source}噪音的投诉", "{road}{source}噪音太大",
                "{place}附近{source}{clock}还在吵", "反映{place}附近夜间噪音问题", "{source}噪音{since}没人管"),
        opening=("{place}旁边的{source}{since}{symptom}，{clock}{symptom}。",
                 "{since}{road}上的{source}{symptom}，{where}的居民{since}{feel}。",
                 "我们{place}的居民被{source}折腾得够呛，{since}{symptom}。",
                 "{since}{where}{symptom}，{lead}{clock}{symptom}。"),
        slots={
            "source": ("工地", "烧烤摊", "广场舞队", "KTV", "酒吧", "汽修店", "搅拌站", "商场的空调外机",
                       "菜市场卸货的货车", "健身房", "装修的住户", "夜市摊位", "洗车店", "渣土车"),
            "db": _num(65, 95), "h": _num(8, 10),
            "where": ("我家{floor}楼的窗外", "{place}{bno}号楼那边", "我们小区西侧", "{road}{metres}米以内",
                      "{place}的{bno}号楼到{bno2}号楼"),
            "bno2": _num(1, 30),
            "party": ("城管执法中队", "派出所", "环保部门", "施工单位", "街道办", "物业"),
            "other": ("住建局", "派出所", "城管", "环保局"),
            "symptom": ("一直响到后半夜", "噪音超过{db}分贝", "天不亮就开始叮叮当当", "音响开得震天响",
                        "搅拌机一直转到后半夜", "喝酒划拳的声音吵到{clock}", "渣土车来回轰油门", "电锯声刺耳得很",
                        "窗户关严了也挡不住", "周末一整天不停", "打桩机震得玻璃嗡嗡响", "拿手机测了一下有{db}分贝",
                        "一晚上过去{big}辆大车"),
            "impact": ("整宿整宿睡不着", "白天上班没精神", "心脏病都犯了", "半夜总被吵醒",
                       "只能吃安眠药入睡", "白天补觉也补不了", "神经衰弱越来越严重", "看病花了{money}多块钱"),
            "excuse": ("工期紧只能连夜干", "他们有夜间施工许可", "音量已经调小了", "等这批活干完就好",
                       "他们也要挣钱吃饭", "执法人员一走就又开始了", "这事他们没有执法权"),
            "detail": ("离我家窗户也就{metres}米", "工地门口贴的施工时间是早{n}点到晚{h}点可{clock}还在干", "{when}一晚上来了{big}辆车",
                       "{when}我从{clock}一直听到天亮", "{source}周边有{few}个小区{big}户居民", "{when}中考前那几天也没停",
                       "{when}{staff}来看过说管不了"),
            "ask": ("严格查处{road}的夜间违规施工", "规定{source}晚上{h}点以后停止营业", "派人{clock}来实地测一测噪音",
                    "督促{road}的{source}安装隔音设施", "把{source}迁到远离{place}的地方"),
            "question": ("夜间施工许可是哪个部门批的", "噪音超标应该找城管还是环保", "晚上几点以后不能施工",
                         "{source}的营业时间有没有规定"),
            "suggest": ("在{place}附近安装噪音监测显示屏", "划定广场舞的固定区域和时段", "中高考期间全面禁止夜间施工",
                        "公布夜间施工的审批信息", "给{source}装上噪音自动监测"),
        },
        depts=("区城市管理局", "生态环境分局", "派出所", "区住房和城乡建设局"),
        checked=("{road}附近的{source}", "{road}工地的夜间施工许可办理情况", "{place}周边{clock}的噪音"),
        found=("{road}工地未办理夜间施工许可", "{clock}测得噪音{db}分贝超过了标准", "{source}使用了{few}台大功率音响",
               "{road}施工单位{since}存在超时作业"),
        measures=("责令{road}施工单位停止夜间作业", "对施工单位立案处罚{money}0元", "约谈了{source}经营者{few}次",
                  "暂扣了大功率音响{few}台", "要求加装{metres}米隔音围挡", "安排执法队员{since}夜间蹲点巡查"),
        next_steps=("中高考期间对{road}实行夜间施工零审批", "在{nyear}年{m}月前继续开展夜间巡查", "对屡教不改的{source}依法从严处理"),
    ),
    Topic(
        "停车",
        titles=("{place}停车难问题", "{place}车辆乱停堵塞消防通道", "关于{road}违停的问题", "建议{place}增设停车位",
                "{place}{count}辆僵尸车长期占用车位", "{road}停车收费不规范", "{place}{bno}号楼门口停车乱"),
        opening=("{place}{since}{symptom}，{lead}{symptom}。",
                 "{place}是{year}年建成的老小区{big}户只有{nn}个车位，{since}{symptom}。",
                 "{road}{since}{symptom}，{lead}{where}{symptom}。",
                 "{since}{where}{symptom}，{clock}{where}{symptom}。"),
        slots={
            "where": ("{bno}号楼门口", "小区东门", "{road}北侧", "{place}的西侧通道", "{bno}号楼和{bno2}号楼之间"),
            "bno2": _num(1, 30),
            "party": ("物业", "交警大队", "停车场管理公司", "街道办", "城管"),
            "other": ("交警", "社区", "开发商", "物业"),
            "symptom": ("车位严重不足", "车停得满满当当", "消防通道被车堵得死死的", "车停到了绿化带里",
                        "有{count}辆僵尸车停了{n}年没挪过", "停车收费{n}块钱一小时也不开票", "外来车辆随便进出",
                        "人行道上停了{big}辆车", "私家车把出入口都堵了", "电动车和汽车挤成一团", "有人用地锁占了{count}个公共车位",
                        "救护车都开不进来"),
            "impact": ("早上出门要挪半天车", "出门只能从车缝里挤", "差点被倒车的撞到", "车被刮了{count}回",
                       "上班迟到了{count}次", "急救时在门口耽误了{nn}分钟"),
            "excuse": ("车位规划是开发商定的", "乱停车他们没有执法权", "业主自己的车他们不好管",
                       "要业委会同意才能施划车位", "小区里面归物业管"),
            "detail": ("小区里有{big}户人家{nn}个车位", "周边{metres}米内没有公共停车场", "{clock}回来根本找不到车位",
                       "{when}路边一溜停了{big}辆车", "{when}{staff}说车位要{money}元一个月"),
            "ask": ("在{road}施划{nn}个临时停车位", "清理{place}里的{count}辆僵尸车", "让交警在{road}加强违停执法",
                    "把{road}附近的空地改成停车场", "规范{place}门口每小时{n}块的停车收费"),
            "question": ("小区内的僵尸车能不能拖走", "老旧小区改造能不能增加车位", "{road}晚上能不能临时停车",
                         "小区停车费由谁定价"),
            "suggest": ("利用{road}附近的闲置地建立体停车场", "推行错时共享停车", "在{place}划定夜间临时停车区",
                        "把周边单位的停车场晚上对居民开放"),
        },
        depts=("交警大队", "区城市管理局", "街道办事处", "区住房和城乡建设局"),
        checked=("{place}内{m}月以来的停车情况", "{road}沿线{metres}米的违停车辆", "{place}{bno}号楼附近的消防通道"),
        found=("{place}内有{count}辆长期停放的僵尸车", "{road}晚高峰违停{nn}余辆", "{place}停车收费{since}未公示标准"),
        measures=("清理僵尸车{count}辆", "在{road}新划停车位{nn}个", "对{place}消防通道施划了{metres}米禁停标线",
                  "对违停车辆贴单{nn}张", "协调周边单位开放夜间车位{nn}个", "责令停车场在{few}日内公示收费标准"),
        next_steps=("结合{nyear}年老旧小区改造为{place}增设车位{nn}个", "每月开展{few}次违停整治", "研究{road}错时共享停车方案"),
    ),
    Topic(
        "工资",
        titles=("{company}拖欠工资{count}个月", "关于讨要工资的求助", "农民工工资被拖欠{n}个月", "{road}{project}拖欠工人工资",
                "请求帮助追讨{wage}元劳动报酬", "咨询工资拖欠怎么维权", "{big}名工人工资被拖欠"),
        opening=("我们{big}个工友在{road}的{project}干活，{since}{symptom}，{lead}{symptom}。",
                 "{since}{company}{symptom}，我们{since}讨要了{count}次都没有结果。",
                 "我{year}年{m}月起在{company}上班，{since}{symptom}，{lead}{symptom}。"),
        slots={
            "company": ("一家物流公司", "一家装修公司", "一家保洁公司", "一家餐饮店", "劳务公司", "一家保安公司",
                        "一家服装厂", "一家汽修厂", "一家培训机构"),
            "project": ("住宅项目", "商业楼工地", "道路改造工程", "学校扩建工程", "管网改造工程", "厂房工地"),
            "wage": _num(8000, 52000),
            "party": ("包工头", "项目部", "公司老板", "劳务公司", "人社局劳动监察大队", "总包单位"),
            "other": ("总包单位", "开发商", "劳务公司", "法院"),
            "where": ("我们班组", "{road}{project}", "我们{big}个人", "公司"),
            "symptom": ("完工{count}个月了工钱还没结清", "总共欠了{wage}元", "老板说等甲方拨款再发",
                        "每次去要钱都说下个月", "工资条都不给发", "社保停缴了{count}个月", "只发了{n}成工资",
                        "突然关门了老板也联系不上", "说好的{money}元加班费一分没给", "押着{count}个月工资不发",
                        "包工头把电话都换了"),
            "impact": ("连孩子的学费都交不上", "看病的钱都拿不出来", "房租已经拖欠了{count}个月", "只能到处借钱过日子",
                       "过年都不敢回老家", "天天跟家里人吵架", "一天只吃两顿饭"),
            "excuse": ("甲方还没结账", "工程量还没核算完", "公司资金周转困难", "要先走审计程序",
                       "工钱已经给包工头了", "等官司打完再说"),
            "detail": ("我们从{when}干到{when}一共{nn}多天", "手里有从{when}开始的考勤记录和聊天记录", "一共{big}个人被欠薪总数有{wage}元",
                       "说好每天工钱是{money}元", "欠我个人{wage}元", "{big}个人里只有{few}个签了合同",
                       "{when}我们去项目部找过{staff}"),
            "ask": ("帮我们{big}个工友讨回血汗钱", "让劳动监察部门到{road}{project}介入调查", "督促总包单位先行垫付{wage}元",
                    "给我们{few}个人提供法律援助", "查一查{company}{year}年以来的账"),
            "question": ("被拖欠工资应该去哪里投诉", "没有签劳动合同能不能讨薪", "劳动仲裁需要准备哪些材料",
                         "总包单位要不要承担责任", "欠薪多长时间以内可以申请仲裁"),
            "suggest": ("对工地实行工资专户管理", "建立欠薪企业黑名单", "在工地门口公示维权电话", "按月检查工资发放台账"),
        },
        depts=("区人力资源和社会保障局", "劳动保障监察大队", "区住房和城乡建设局"),
        checked=("{road}{project}的用工和工资支付台账", "{company}{year}年以来的工资发放记录", "{road}{project}总包单位的工资专户"),
        found=("{road}{project}确实拖欠{big}名工人工资共计{wage}元", "劳务分包单位{since}未按月足额发放工资",
               "{company}有{count}名员工未签劳动合同"),
        measures=("约谈了总包单位负责人{few}次", "下达了劳动保障监察限期改正指令书", "督促总包单位先行垫付工资{wage}元",
                  "为{few}名工人提供了法律援助", "将{company}列入重点监控名单", "追回工资{wage}元并已发放到{big}名工人手中"),
        next_steps=("对{m}月{d}日前仍不支付的依法移送公安机关", "每{few}天跟踪一次工资发放进度", "引导其余{few}名工人通过劳动仲裁维权"),
    ),
    Topic(
        "垃圾",
        titles=("{place}垃圾清运不及时", "{place}{spot}垃圾堆积", "关于{road}垃圾乱倒的问题", "{place}垃圾桶满溢无人管",
                "反映{place}垃圾分类不落实", "{road}建筑垃圾乱倒", "{place}垃圾{count}天没人清运"),
        opening=("{place}{spot}的垃圾{since}{symptom}，{lead}{symptom}。",
                 "{since}{road}边上{symptom}，{lead}{where}{symptom}。",
                 "我们{place}的垃圾问题{since}说了{count}回了，{lead}{symptom}，{since}{symptom}。",
                 "{since}{where}{symptom}，{clock}{where}{symptom}。"),
        slots={
            "spot": ("东门", "西门", "{bno}号楼后面", "自行车棚边上", "菜市场门口", "北侧的空地", "幼儿园围墙外"),
            "where": ("{place}{spot}", "我们{bno}号楼门口", "{road}路边", "垃圾站周围{metres}米"),
            "party": ("物业", "环卫所", "保洁公司", "社区", "城管"),
            "other": ("环卫所", "街道", "物业", "城管"),
            "symptom": ("经常{count}天才清运一次", "垃圾桶天天满得往外冒", "一到夏天臭味熏天", "苍蝇蚊子成群",
                        "垃圾堆了有{n}米高", "有人半夜倒建筑垃圾", "分类垃圾桶形同虚设", "垃圾车{clock}来收噪音很大",
                        "污水流得满地都是", "老鼠大白天乱窜", "装修垃圾堆了{count}个星期没人拉", "垃圾袋被野猫扒得到处都是"),
            "impact": ("窗户一年四季不敢开", "被蚊子咬得满身包", "家里进了老鼠", "过路要捂着鼻子",
                       "出门都得绕着走", "连窗户都不敢开"),
            "excuse": ("清运车辆不够", "这块地方不归他们管", "居民自己乱扔", "环卫所{count}天才来一次",
                       "保洁员人手不够", "合同里没写清运装修垃圾"),
            "detail": ("{big}户人家只有{count}个垃圾桶", "周边{big}户人家都往{spot}倒", "{when}我看了一上午就满了",
                       "垃圾点离我们单元门只有{metres}米", "{when}{spot}的垃圾还着过一次火", "{when}{staff}说{m}月份加桶"),
            "ask": ("把清运增加到每天{few}次", "在{place}增设{count}个垃圾桶", "清理{spot}的{count}堆建筑垃圾",
                    "每{count}天对{spot}消杀一次", "督促{place}物业落实垃圾分类"),
            "question": ("装修垃圾应该由谁来清运", "小区垃圾清运的标准是几天一次", "乱倒建筑垃圾能不能罚款",
                         "垃圾分类做不好物业要不要担责"),
            "suggest": ("在{spot}装一个监控", "设立装修垃圾集中堆放点", "实行定时定点投放", "给垃圾桶加盖",
                        "对清运公司按月考核"),
        },
        depts=("区城市管理局", "环卫中心", "街道办事处", "社区居委会"),
        checked=("{place}{spot}的垃圾收集点", "{place}片区{m}月以来的清运记录", "{road}沿线{metres}米的卫生状况"),
        found=("{place}{spot}收集点的垃圾桶只有{count}个", "{place}清运频次{since}未达到每日一次的要求", "{road}有{count}车建筑垃圾被违规倾倒"),
        measures=("清运积存垃圾{nn}吨", "在{place}新增分类垃圾桶{count}组", "把清运调整为每天{few}次", "对{spot}垃圾点进行了{few}次消杀",
                  "在{spot}安装了{few}个监控探头", "对乱倒垃圾的车辆处罚{money}元"),
        next_steps=("把{place}纳入环卫日常考核", "于{m}月底前在{road}设立装修垃圾临时堆放点", "每周开展{few}次夜间巡查"),
    ),
    Topic(
        "公交",
        titles=("建议{road}增设公交站", "{bus}路公交车间隔太长", "关于调整{bus}路公交线路的建议", "{place}附近没有公交车",
                "{bus}路公交站点取消后出行不便", "咨询{road}公交线路开通的问题", "{bus}路末班车太早"),
        opening=("{place}附近{since}{symptom}，{lead}{symptom}。",
                 "{since}{bus}路公交车{symptom}，{lead}{symptom}。",
                 "住在{place}的{big}户居民出行主要靠{bus}路公交，可{since}{symptom}。",
                 "{since}{where}{symptom}，{clock}{where}{symptom}。"),
        slots={
            "bus": _num(1, 68), "h": _num(7, 9),
            "where": ("{road}站", "{place}门口的站台", "{bus}路{road}站", "{road}与{road2}路口"),
            "road2": _ROADS2,
            "party": ("公交公司", "交通局", "{bus}路调度站", "公交客服热线"),
            "other": ("交通局", "公交集团", "街道办"),
            "symptom": ("最近的公交站要走{metres}米", "车要等{nn}分钟才来一趟", "末班车晚上{h}点就没了",
                        "站点改到了{road}另一头", "早高峰车上挤得根本上不去", "站牌上的时刻表早就不准了",
                        "经常不进站就开走", "连个遮雨棚都没有", "线路绕了{few}公里的大圈", "车上的空调经常不开"),
            "impact": ("去医院要倒{count}趟车", "上学只能打车", "在站台冻得直跺脚", "上班经常迟到",
                       "每月多花{money}元打车钱", "干脆不出门了"),
            "excuse": ("客流量不够", "道路太窄进不去", "车辆不够调度不开", "要等道路改造完", "线路调整要报市里批"),
            "detail": ("周边有{big}个小区{big}户人家", "{road}附近还有{few}所学校和一家医院", "{clock}等车的人排了{nn}多米",
                       "站台离路口只有{metres}米", "{when}我等了{nn}分钟才上车"),
            "ask": ("在{road}与{road2}路口增设一个站点", "把{bus}路的发车间隔缩短到{count}分钟", "把{bus}路末班车延长到晚上10点",
                    "给{road}站台加装遮雨棚", "开通从{place}到区医院的直达线路"),
            "question": ("{bus}路的站点为什么取消了", "新线路开通需要满足什么条件", "能不能开通社区微循环公交",
                         "老年人乘车优惠怎么办理"),
            "suggest": ("开通{place}到{road}的社区巴士", "高峰时段加开区间车", "在站台安装电子站牌", "调整{bus}路的首末班时间"),
        },
        depts=("区交通运输局", "市公交集团", "街道办事处"),
        checked=("{bus}路公交车{m}月以来的运营情况", "{road}沿线{clock}的客流", "{place}周边{metres}米内的站点设置"),
        found=("{bus}路高峰时段发车间隔达{nn}分钟", "{road}道路宽度只有{n}米暂不具备设站条件", "{road}站因道路施工{since}临时停用"),
        measures=("把{bus}路高峰发车间隔缩短到{count}分钟", "在{road}新设临时站点一处", "更新了{bus}路{nn}个站牌的时刻表",
                  "对{few}名不进站的司机进行了批评教育", "协调为{bus}路增加{few}台运营车辆"),
        next_steps=("{road}施工完成后于{m}月恢复原站点", "在{nyear}年研究开通{place}社区微循环公交", "每{few}个月监测一次{bus}路客流"),
    ),
    Topic(
        "供水",
        titles=("{place}经常停水", "{place}自来水发黄", "{place}水压低{floor}楼以上用不上水", "关于{place}供水问题的反映",
                "{road}停水不提前通知", "{place}二次供水设施问题", "{place}{since}停水{count}次"),
        opening=("{place}{since}{symptom}，{lead}{symptom}。",
                 "{since}我们{place}{bno}号楼{symptom}，{lead}{symptom}。",
                 "家里的自来水{since}{symptom}，{lead}{symptom}，{we}{since}都不敢直接喝。",
                 "{since}{where}{symptom}，{lead}{where}{symptom}。"),
        slots={
            "where": ("{bno}号楼{floor}楼以上", "我家", "{place}的高层", "我们单元", "{bno}号楼"),
            "spot": ("小区门口", "隔壁楼", "亲戚家", "超市"),
            "party": ("自来水公司", "物业", "二次供水泵房", "供水热线", "水务部门"),
            "other": ("物业", "自来水公司", "开发商", "住建局"),
            "symptom": ("{when}停了整整{count}天水", "水一开就是黄的", "白天根本上不去水", "水里有一股漂白粉味",
                        "停水从来不提前通知", "水压低得洗衣机都转不起来", "烧开的水底下有一层白垢", "水管漏水把楼道泡了",
                        "水表走得特别快", "{clock}才来水", "二次供水的水箱{count}年没洗过"),
            "impact": ("只能拎着桶到{spot}接水", "上厕所都冲不了", "买了{count}桶纯净水做饭", "洗不上澡",
                       "做饭都成问题", "喝了水拉肚子"),
            "excuse": ("主管道在维修", "泵房设备老化", "高峰期用水量大", "是小区内部管网的问题归物业管",
                       "水质检测是合格的"),
            "detail": ("我家住{floor}楼{since}基本上靠拎水", "小区有{big}户居民{few}个泵房", "我们{since}月月按时交水费",
                       "{when}我接了一盆水能看到杂质", "{when}{staff}说水泵{m}月份才换"),
            "ask": ("对{place}的二次供水设施进行检修", "停水提前{few}天通知", "检测一下{place}{bno}号楼的水质",
                    "更换{bno}号楼老化的供水管道"),
            "question": ("二次供水设施归谁维护", "水质检测结果在哪里能查到", "停水多长时间需要提前通知",
                         "水表不准应该找谁校验"),
            "suggest": ("定期公示二次供水的水质检测报告", "把老旧小区供水管网纳入改造", "停水时安排送水车",
                        "给高层住户加装增压设备"),
        },
        depts=("区水利局", "自来水公司", "区住房和城乡建设局", "街道办事处"),
        checked=("{place}二次供水泵房", "{place}{bno}号楼的出水水质", "{place}{metres}米长的供水管网"),
        found=("{place}泵房{few}台加压泵中有一台故障", "{bno}号楼供水管道锈蚀严重", "水箱{since}没有清洗记录",
               "{place}水质检测{nn}项指标均合格"),
        measures=("更换了{place}泵房的加压泵", "对{few}个水箱进行了清洗消毒", "更换锈蚀管道{metres}米", "对{place}管网冲洗了{few}次",
                  "要求物业每{few}个月清洗一次水箱"),
        next_steps=("在{nyear}年把{place}供水管网纳入改造", "计划停水将提前24小时在{place}公告", "每{few}个月公布一次{place}的水质检测结果"),
    ),
    Topic(
        "物业",
        titles=("{place}物业服务差", "{place}物业乱收费", "{place}{bno}号楼电梯经常坏", "关于{place}物业不作为的投诉",
                "咨询{place}更换物业的程序", "{place}公共收益去向不明", "{place}物业费涨到{fee}元"),
        opening=("{place}的物业{since}{symptom}，{lead}{symptom}。",
                 "{since}{place}{symptom}，{lead}{where}{symptom}。",
                 "我们{place}物业费一年交{fee}元，可{since}{symptom}。",
                 "{since}{where}{symptom}，{lead}{where}{symptom}。"),
        slots={
            "fee": _num(600, 3000),
            "where": ("{bno}号楼", "{bno}号楼{few}单元", "地下车库", "小区{few}个门岗", "我们这栋楼"),
            "party": ("物业公司", "物业", "业委会", "物业经理", "开发商"),
            "other": ("社区", "住建局", "街道", "业委会"),
            "symptom": ("电梯一个月坏了{count}回", "门禁坏了{n}个月没修", "绿化带成了菜地", "楼道的灯一直不亮",
                        "保安晚上都在睡觉", "物业费涨了却不说明理由", "公共收益从来没公布过", "维修基金被挪用",
                        "健身器材坏了{count}件", "监控摄像头全是摆设", "地下室积水{nn}公分深", "楼门的锁坏了谁都能进",
                        "电动车在楼道里充电没人管"),
            "impact": ("被困在电梯里{nn}分钟", "家里的电动车被偷了", "每天都要爬{floor}层楼", "在健身器材上划伤了手",
                       "车库里的车被水泡了"),
            "excuse": ("物业费收缴率太低", "维修要动用维修基金", "业委会还没成立", "电梯公司说零件要等",
                       "物业是开发商指定的"),
            "detail": ("小区有{big}户人家{count}部电梯", "物业说{year}年物业费收缴率只有{nn}%", "{bno}号楼电梯是{year}年装的",
                       "{when}{staff}说过会处理", "物业{since}只有{few}个保洁员"),
            "ask": ("督促物业公开{year}年以来的收支账目", "对{place}{count}部电梯进行安全检测", "协助{place}成立业委会",
                    "查处物业每年{fee}元的乱收费"),
            "question": ("更换物业需要什么程序", "维修基金怎么申请使用", "物业费涨价需要业主同意吗",
                         "公共收益应该怎么分配"),
            "suggest": ("对物业服务进行年度考核并公示", "推行物业服务信用评价", "在小区设立物业服务监督岗",
                        "把物业收支每季度公示一次"),
        },
        depts=("区住房和城乡建设局", "街道办事处", "社区居委会", "区市场监督管理局"),
        checked=("{place}物业服务合同履行情况", "{place}{count}部电梯的维保记录", "{place}物业{year}年以来的公共收益账目"),
        found=("物业{since}未按合同约定公示收支", "{place}{bno}号楼{count}部电梯存在安全隐患", "{place}物业费调整未履行法定程序"),
        measures=("约谈了物业公司负责人{few}次", "对{bno}号楼{count}部电梯进行了全面检修", "责令物业在{few}日内公示公共收益",
                  "下达了整改通知书", "组织召开了{big}人参加的三方协调会"),
        next_steps=("指导{place}在{m}月前筹备成立业委会", "把{place}物业公司纳入{nyear}年信用考评", "每{few}周回访一次整改情况"),
    ),
    Topic(
        "入学",
        titles=("关于孩子入学的咨询", "{school}学区划分问题", "{school}门口交通拥堵", "{place}附近缺少幼儿园",
                "{school}课后服务收费问题", "随迁子女入学难", "{place}孩子上学要跑{count}公里"),
        opening=("我家孩子今年{kid}岁{since}{symptom}，{lead}{symptom}。",
                 "{since}{school}{symptom}，{lead}{symptom}。",
                 "我们{place}的孩子上学{since}{symptom}，{lead}{symptom}。",
                 "{since}{where}{symptom}，{lead}{where}{symptom}。"),
        slots={
            "kid": _num(3, 12),
            "school": ("区实验小学", "第三小学", "文昌路小学", "第二初级中学", "东风路小学", "区第一幼儿园", "龙泉小学"),
            "where": ("{school}门口", "{school}", "我们{place}", "{school}{kid}年级"),
            "party": ("教育局", "学校", "招生办", "班主任"),
            "other": ("社区", "派出所", "街道", "学校"),
            "symptom": ("按户口被划到了{metres}0米外的学校", "学区划分年年变", "报名时要交{count}种证明",
                        "放学时校门口堵得水泄不通", "课后服务每学期收{money}元", "一个班有{nn}个孩子", "附近没有一所公办幼儿园",
                        "私立幼儿园一个月要{fee}元", "随迁子女要交社保满{count}年才能报名", "人行横道没有信号灯"),
            "fee": _num(1500, 4000),
            "impact": ("每天六点就得起床", "接送要跑{count}公里", "接孩子差点被车撞", "为这事发愁"),
            "excuse": ("学位已经满了", "划片是按户籍来的", "政策是市里定的", "课后服务是自愿参加的"),
            "detail": ("我们是{year}年{m}月在{place}买的房", "户口落在{place}已经{count}年", "{place}周边{since}新建了{few}个小区",
                       "{school}离家只有{metres}米", "{when}{staff}说学位{m}月份才定"),
            "ask": ("重新考虑{place}的学区划分", "在{school}放学时段安排交警疏导", "在{place}附近新建一所公办幼儿园",
                    "规范{school}每学期{money}元的课后服务收费"),
            "question": ("入学报名需要准备哪些材料", "随迁子女入学有什么条件", "学区划分什么时候公布",
                         "课后服务收费有没有标准"),
            "suggest": ("在校门口设置接送等候区", "提前公布学区划分方案", "利用闲置校舍开办公办幼儿园",
                        "在{school}门口加装信号灯"),
        },
        depts=("区教育局", "交警大队", "街道办事处"),
        checked=("{school}{nyear}年招生划片情况", "{school}放学时段{clock}的交通", "{school}课后服务收费情况"),
        found=("{place}已划入{school}招生范围", "放学高峰{school}门口车流量约{big}辆", "{school}课后服务每学期{money}元符合收费标准"),
        measures=("在{school}门口增设了{nn}个临时停车位", "安排{few}名民警和志愿者在放学时段疏导", "向{big}名家长公开了招生细则",
                  "为随迁子女开通了线上报名渠道"),
        next_steps=("把{place}附近新建幼儿园列入{nyear}年规划", "每年{m}月公布学区划分", "从{m}月起把{school}课后服务延长{few}十分钟"),
    ),
    Topic(
        "医保",
        titles=("医保报销比例咨询", "异地就医报销难", "关于{year}年医保缴费的问题", "门诊慢性病认定问题",
                "{hospital}医保结算问题", "咨询灵活就业人员医保缴费", "住院{bill}元只报了{nn}%"),
        opening=("我{since}{symptom}，{lead}{symptom}。",
                 "{since}我爱人在{hospital}住院，{lead}{symptom}，{lead}{symptom}。",
                 "我是{year}年{m}月起参保的灵活就业人员{since}{symptom}，{lead}{symptom}。",
                 "我今年{age}岁{since}{symptom}，{lead}{symptom}。"),
        slots={
            "hospital": ("区人民医院", "市中医院", "省人民医院", "郑州一家医院", "社区卫生服务中心", "北京的一家医院"),
            "where": ("我", "我爱人", "我父亲", "家里老人"),
            "party": ("医保局", "医保窗口", "医院医保科", "社保中心", "税务大厅"),
            "other": ("医院", "税务局", "社保中心"),
            "symptom": ("住院花了{bill}元只报了{nn}%", "异地就医备案办了{count}次都没成功", "门诊慢性病认定被退回来了",
                        "医保卡突然不能用了", "今年的缴费标准涨到了{money}元", "在{hospital}看病不能直接结算",
                        "回来报销要跑{count}个窗口", "有{few}种药不在报销目录里", "断缴了{count}个月不知道怎么补"),
            "bill": _num(6000, 98000),
            "impact": ("家里积蓄都花光了", "只能找亲戚借钱看病", "来回跑了{count}趟", "病情都耽误了"),
            "excuse": ("材料不全", "系统正在升级", "政策刚刚调整", "备案要本人到场"),
            "detail": ("我今年{age}岁{since}一直在吃药", "每个月吃药要{money}元", "我是{year}年{m}月开始参保的每年交{money}元", "{when}医院说要等{count}个工作日",
                       "{when}{staff}让我补{few}份材料"),
            "ask": ("把我{bill}元的报销落实", "简化异地就医备案手续", "重新审核我{when}提交的门诊慢性病认定",
                    "把常用的{few}种药纳入报销范围"),
            "question": ("异地就医怎么备案", "门诊慢性病认定需要什么材料", "断缴后怎么补缴", "住院报销的起付线是多少"),
            "suggest": ("在社区设立医保代办点", "推行线上备案", "把政策解读发到社区群里", "对老年人提供上门办理"),
        },
        depts=("区医疗保障局", "区人民医院", "社保中心"),
        checked=("来信人{year}年以来的参保和报销记录", "来信人{when}的异地就医备案办理情况"),
        found=("备案时所填就医地信息有误", "{bill}元费用中有{count}项属于自费药品", "来信人符合门诊慢性病认定条件"),
        measures=("协助办理了异地就医备案", "补报了医疗费用{money}元", "重新组织了门诊慢性病认定",
                  "安排{few}名工作人员上门讲解政策"),
        next_steps=("于{nyear}年推行线上备案", "在{place}所在社区开展医保政策宣讲", "每{few}周跟踪一次报销进度"),
    ),
    Topic(
        "道路",
        titles=("{road}路面坑洼不平", "{road}井盖缺失", "{road}雨后积水严重", "关于{road}修路拖延的问题",
                "{place}门口道路破损", "{road}人行道破损", "{road}{spot}修了{count}个月还没完工"),
        opening=("{road}{spot}{since}{symptom}，{lead}{symptom}。",
                 "{since}{road}{symptom}，{lead}{where}{symptom}。",
                 "{place}门口的路{since}{symptom}，{lead}{symptom}。",
                 "{since}{where}{symptom}，{clock}{where}{symptom}。"),
        slots={
            "spot": ("与{road2}交叉口", "东段", "西段", "公交站附近", "桥下", "学校门口", "{place}北门"),
            "road2": _ROADS2,
            "where": ("{road}{spot}", "{place}门口", "{road}往{road2}方向的{metres}米", "{road}南侧"),
            "party": ("市政维修队", "交通局", "施工单位", "城管"),
            "other": ("开发商", "市政", "燃气公司", "自来水公司"),
            "symptom": ("坑有{nn}公分深", "井盖丢了{count}个", "一下雨就积水到小腿", "修了{count}个月还没完工",
                        "路面裂开了{count}道口子", "人行道的砖都翘起来了", "施工围挡占了半幅路", "挖开以后就没人管了",
                        "晚上连个警示灯都没有", "下水道堵了污水往外冒"),
            "impact": ("电动车摔了好几回", "走路崴了脚", "掉进了水坑", "车胎被扎了{count}回", "出门只能绕远路"),
            "excuse": ("资金还没拨下来", "要等管线迁改完", "这条路还没移交", "雨季不能施工"),
            "detail": ("那个坑有{metres}厘米宽", "{road}每天有{big}辆车经过", "施工牌上写的工期是{m}月{d}日",
                       "附近{metres}米内有{few}所学校", "{when}{staff}说要等{m}月份"),
            "ask": ("修补{road}{spot}的{count}个坑洞", "补上{road}{spot}缺失的{count}个井盖", "让{road}{spot}的施工单位加快进度",
                    "疏通{road}{spot}的下水道"),
            "question": ("{road}改造什么时候完工", "井盖归哪个单位管", "道路积水应该向哪里报修"),
            "suggest": ("在施工路段设置警示灯", "公开道路施工工期", "雨季前集中清掏雨水井", "把{road}人行道整体翻新"),
        },
        depts=("区交通运输局", "区住房和城乡建设局", "区城市管理局"),
        checked=("{road}{spot}的路面", "{road}沿线{metres}米的井盖", "{road}{spot}的雨水管网"),
        found=("{road}{spot}路面坑槽{count}处", "{road}缺失井盖{count}个", "{road}{spot}有{few}个雨水口被淤泥堵塞"),
        measures=("修补坑槽{nn}平方米", "补齐井盖{count}个", "清掏雨水井{nn}座", "在{road}{spot}设置了{few}处警示标志",
                  "督促施工单位增加{nn}名人员加快进度"),
        next_steps=("把{road}纳入{nyear}年大修计划", "对{road}每周巡查{few}次", "于{m}月雨季前再次清掏{road}管网"),
    ),
    Topic(
        "摊位",
        titles=("{road}占道经营", "{place}门口早市影响出行", "关于{market}摊位费的问题", "咨询{market}摊位申请",
                "{road}流动摊贩扰民", "{market}管理混乱", "{market}摊位费一年涨了{money}元"),
        opening=("{road}{since}{symptom}，{lead}{symptom}。",
                 "{since}{market}{symptom}，{lead}{symptom}。",
                 "我在{market}卖菜{count}年了每月摊位费{money}元，{since}{symptom}。",
                 "{since}{where}{symptom}，{clock}{where}{symptom}。"),
        slots={
            "market": ("农贸市场", "早市", "夜市", "便民市场", "果蔬批发市场"),
            "where": ("{road}", "{place}门口", "{market}东头", "{road}{metres}米长的路段"),
            "party": ("市场管理方", "城管", "市场监管所", "街道办"),
            "other": ("城管", "市场监管", "交警", "社区"),
            "symptom": ("摊位摆到了马路中间", "摊位费一年涨了{money}元", "流动摊贩把人行道都占满了",
                        "收摊后满地菜叶子", "缺斤短两的现象很多", "烧烤摊油烟呛人", "摊位被人私下转租",
                        "顶棚漏雨", "城管一来就跑一走又回来", "摆了{big}个摊"),
            "impact": ("叫救护车都开不进来", "买菜被电动车撞了", "家里窗户全是油烟", "买菜都得绕路走"),
            "excuse": ("摊贩都是附近的困难群众", "市场是承包出去的", "人手不够管不过来"),
            "detail": ("{road}一条街上{clock}有{big}个摊", "摊位费是{money}元一个月", "{big}个摊位的市场里只有{count}个公平秤",
                       "{when}{staff}说{m}月份整顿", "{clock}摊位一直摆到{road}路口"),
            "ask": ("规范{road}{metres}米路段的占道经营", "公开{market}每月{money}元摊位费的收费依据", "在{market}增设{count}个公平秤",
                    "在{road}划定固定的经营区域"),
            "question": ("摊位怎么申请", "摊位费由谁定价", "临时摊点需要办什么手续"),
            "suggest": ("把早市迁到{road}附近的空地", "设立便民疏导点", "实行摊位公开抽签", "给摊贩统一配发遮阳棚"),
        },
        depts=("区城市管理局", "区市场监督管理局", "街道办事处"),
        checked=("{road}{clock}的占道经营情况", "{market}的收费公示", "{market}的{nn}台秤具"),
        found=("{road}早高峰时段占道摊点{nn}处", "{market}摊位费{since}未按规定公示", "{market}有{count}台电子秤计量不准"),
        measures=("清理{road}占道摊点{nn}处", "设置便民疏导点{count}处", "责令{market}在{few}日内公示收费标准",
                  "没收了不合格秤具{count}台", "安排{few}名执法队员早晚高峰值守"),
        next_steps=("于{m}月前拿出{market}规范化方案", "每月对{market}开展{few}次计量检查", "对{road}每天巡查{few}次"),
    ),
    Topic(
        "消防",
        titles=("{place}楼道堆放杂物", "{place}电动车楼道充电", "{place}消防通道被占", "关于{place}消防隐患的反映",
                "{place}{count}具灭火器过期", "{place}{bno}号楼飞线充电问题", "{place}消防设施损坏"),
        opening=("{place}{bno}号楼{since}{symptom}，{lead}{symptom}。",
                 "{since}我们{place}{symptom}，{lead}{where}{symptom}。",
                 "我想反映一下{place}{since}存在的消防隐患：{since}{symptom}，{lead}{symptom}。",
                 "{since}{where}{symptom}，{clock}{where}{symptom}。"),
        slots={
            "where": ("{bno}号楼{few}单元", "我们单元", "{bno}号楼底下", "{place}东门一带", "{floor}楼的楼梯间"),
            "party": ("物业", "社区", "消防救援站", "街道安全办"),
            "other": ("消防", "社区", "物业", "应急局"),
            "symptom": ("楼道里堆着{count}辆电动车", "有人从{floor}楼窗户拉电线给电动车充电", "消防通道上停满了车",
                        "灭火器过期{count}年了", "消火栓里没有水带", "楼道堆满了纸箱和旧家具", "安全出口被锁上了",
                        "应急灯一个都不亮", "地下室住了人还做饭", "堆了{big}个纸箱"),
            "impact": ("晚上都睡不踏实", "下楼要侧着身子过", "被绊倒过", "万一着火后果不堪设想"),
            "excuse": ("东西是业主自己的不好管", "充电桩还在建设", "清理了过几天又堆上"),
            "detail": ("{bno}号楼{few}单元住了{big}口人", "我们{bno}号楼有{count}部楼梯", "最近的消防站离{place}有{count}公里开车要{nn}分钟",
                       "{when}隔壁小区着过一次火", "{when}{staff}说{m}月份装充电桩"),
            "ask": ("组织清理{bno}号楼{few}单元的楼道杂物", "在{place}加装{nn}个电动车充电桩", "更换{place}过期的{count}具灭火器",
                    "打通{place}{bno}号楼旁的消防通道"),
            "question": ("楼道堆物归哪个部门管", "飞线充电能不能处罚", "小区充电桩怎么申请安装"),
            "suggest": ("每月开展一次消防检查", "在小区增设集中充电棚", "给独居老人家里安装烟雾报警器", "把消防演练搬进小区"),
        },
        depts=("区应急管理局", "消防救援大队", "街道办事处", "社区居委会"),
        checked=("{place}{bno}号楼的楼道", "{place}{count}处消防设施", "{place}{bno}号楼的电动车充电情况"),
        found=("{bno}号楼楼道堆放杂物{count}处", "{place}有{count}具灭火器过期", "{bno}号楼存在{few}处飞线充电"),
        measures=("清理楼道杂物{nn}处", "更换灭火器{nn}具", "在{place}新建电动车充电棚{count}处", "拆除飞线{count}处",
                  "开展了{few}场消防安全宣传"),
        next_steps=("把{place}纳入{nyear}年消防重点检查", "每月对{place}组织{few}次消防检查", "于{m}月底前在{place}增设充电桩{nn}个"),
    ),
)

_KIND_WORD = {"complaint": "投诉", "consultation": "咨询", "suggestion": "建议"}


def pick_topic(rng: random.Random) -> Topic:
    return rng.choice(TOPICS)


# --------------------------------------------------------------------------- filling slots

_SLOT = re.compile(r"\{(\w+)\}")


def _fill(rng: random.Random, template: str, slots: Mapping[str, Slot]) -> str:
    """`template` with each {slot} replaced by one pick, left to right (so deterministic); a
    slot used twice in one template (and what it expands to) picks two different options."""
    used: dict[str, set[str]] = {}

    def expand(text: str, depth: int) -> str:
        if depth > 6:
            raise ValueError(f"slots nested too deep in {template!r}")
        return _SLOT.sub(lambda m: one(m.group(1), depth), text)

    def one(name: str, depth: int) -> str:
        value = slots[name]
        if callable(value):
            text = value(rng)
        elif isinstance(value, str):
            text = value
        else:
            seen = used.setdefault(name, set())
            text = rng.choice(value)
            for _ in range(3):
                if text not in seen:
                    break
                text = rng.choice(value)
            seen.add(text)
        return expand(text, depth + 1) if "{" in text else text

    return expand(template, 0)


def _slots(topic: Topic, **fixed: Slot) -> dict[str, Slot]:
    slots: dict[str, Slot] = dict(GENERIC)
    slots.update(topic.slots)
    slots.update(fixed)
    return slots


# --------------------------------------------------------------------------- title

def title(rng: random.Random, topic: Topic, *, place: str, road: str, kind: str = "complaint") -> str:
    """A letter's title: about the topic, usually naming where."""
    text = _fill(rng, rng.choice(topic.titles), _slots(topic, place=place, road=road, nyear="2026"))
    if kind != "complaint" and rng.random() < 0.3 and not text.startswith(("咨询", "建议", "关于")):
        text = f"关于{text}的{_KIND_WORD[kind]}"
    return text


# --------------------------------------------------------------------------- body
# Sentence frames: every clause has a date, a span or a number and a pick or two from the pools.

_DETAIL = (
    "{since}{where}{symptom}，{clock}{where}{symptom}。",
    "{lead}{where}{symptom}，{lead}{detail}。",
    "{when}我{observe}，{lead}{detail}，{since}{where}{symptom}。",
    "{lead}{detail}，{lead}{detail}。",
    "{when}{staff}来过一次，{lead}{detail}。",
    "{since}{where}的情况一直没好转，{lead}{where}{symptom}。",
    "{when}{where}{symptom}，{lead}{detail}。",
)
_IMPACT = (
    "{since}{person}{impact}，{we}{since}{feel}。",
    "{lead}{person}{when}{impact}，{person}{since}也{impact}。",
    "这样下去{person}{since}{impact}，{we}{since}{feel}。",
    "{when}{person}{impact}，{we}{since}{feel}。",
)
_NEIGHBOUR = (
    "邻居{neighbour}家也是一样，{nb_tail}。",
    "邻居{neighbour}家的情况比我们还严重，{nb_tail}。",
    "邻居{neighbour}家{when}也找过{party}，{nb_tail}。",
    "我问过邻居{neighbour}，{nb_tail}。",
    "对门的邻居{neighbour}家{person}也{impact}，{nb_tail}。",
    "楼下的邻居{neighbour}家也一样，{nb_tail}。",
    "邻居{neighbour}家{since}也是这样，{nb_tail}。",
)
_ATTEMPT = (
    "{we}{contact}，{party}{when}{response}，{outcome}。",
    "为这事{we}{contact}，{contact}，{party}{when}{response}，{when}又说{excuse}。",
    "{party}{when}{response}，{staff}{when}说是{excuse}，{outcome}。",
    "{we}{contact}，{staff}{when}{response}，{outcome}。",
    "我{contact}，{party}的人{when}说{excuse}，{outcome}。",
)
_REQUEST = {
    "complaint": ("{plea}{dl}{ask}，{because}。", "{lead}{plea}{dl}{ask}，也{plea}{dl}{ask_generic}，{because}。",
                  "在此{plea}{dl}{ask}，{plea}{dl}{ask_generic}。"),
    "consultation": ("{q_lead}{q_ctx}{question}？{q_lead}{q_ctx}{question}？",
                     "所以{q_lead}{q_ctx}{question}？另外{q_ctx}{question}？",
                     "{q_lead}{q_ctx}{question}？{plea}{ask_generic}。"),
    "suggestion": ("为此{s_lead}{s_when}{suggest}，同时{s_lead}{s_when}{suggest}，{plea}{ask_generic}。",
                   "结合{we}{since}的经历我提几点建议：一是{s_when}{suggest}，二是{s_when}{suggest}，三是{plea}{ask}。",
                   "{s_lead}{s_when}{suggest}，{plea}{ask_generic}。"),
}


def body(rng: random.Random, *, place: str, road: str, building: str, writer_name: str,
         neighbour: str, phone: str, topic: Topic | None = None, kind: str = "complaint",
         length: tuple[int, int] = (520, 680)) -> str:
    """A letter of about `length` characters: who writes and where they live, the problem,
    for how long and what it does to them, a neighbour in the same plight, what was tried, the
    request (or questions, or suggestions), and the phone (`联系电话138 1234 5678`)."""
    topic = topic or pick_topic(rng)
    slots = _slots(topic, place=place, road=road, neighbour=neighbour)
    target = rng.randint(*length)

    def say(templates: Sequence[str]) -> str:
        return _fill(rng, rng.choice(templates), slots)

    head = [rng.choice(GREETINGS),
            f"我是{writer_name}，家住{place}{building}，" + _fill(rng, "{intro_tail}。", slots),
            say(topic.opening)]
    middle = [say(_DETAIL), say(_IMPACT), say(_ATTEMPT)]
    middle.insert(rng.randint(1, len(middle)), say(_NEIGHBOUR))
    request = say(_REQUEST[kind])
    if kind != "complaint" and rng.random() < 0.5:
        request = say(_REQUEST["complaint"]) + request
    tail = [request, f"联系电话{phone[:3]} {phone[3:7]} {phone[7:]}，{rng.choice(THANKS)}"]
    extra = (_DETAIL, _DETAIL, _IMPACT, _ATTEMPT)
    size = sum(map(len, head + middle + tail))
    while size < target:
        sentence = say(rng.choice(extra))
        if size + len(sentence) > length[1] + 20:
            break
        middle.insert(rng.randint(0, len(middle)), sentence)
        size += len(sentence)
    return "".join(head + middle + tail)


# --------------------------------------------------------------------------- reply

_REPLY_OPEN = ("您好！您反映的“{title}”问题收悉。", "您好！您通过区长信箱反映的问题已收悉，现答复如下：",
               "尊敬的来信人：您好！您反映的“{title}”一事收悉，现答复如下：")
_REPLY_CLOSE = ("感谢您对我区工作的关心和支持！",
                "感谢您对我区工作的关心和支持！如有疑问，可拨打12345政务服务便民热线。")
_WENT = ("{lead_dept}收到来信后于{rdate}会同{dept2}工作人员对{checked}进行了实地查看。",
         "{rdate}{lead_dept}组织{dept2}工作人员{few}人对{checked}进行了现场核查。",
         "接件后{lead_dept}立即安排{few}名工作人员于{rdate}对{checked}逐一进行了检查。",
         "{rdate}上午{lead_dept}联合{dept2}对{checked}开展了专项检查。")
_FOUND = ("{rdate}核查发现{found}，{lead_dept}同时发现{found}。", "经{lead_dept}现场核实{found}。",
          "{rdate}检查发现{found}，另外{lead_dept}还注意到{found}。")
_DID = ("针对上述问题{lead_dept}已于{rdate2}{measure}，并于{rdate2}{measure}。",
        "截至{rdate2}已{measure}，{rdate2}前{measure}，{lead_dept}还于{rdate2}{measure}。",
        "{rdate2}已{measure}，{rdate2}又{measure}。")
_NEXT = ("下一步{lead_dept}将{next}。", "后续将{next}并于{rdate2}前完成全部整改。",
         "{rdate2}{lead_dept}的{sname}科长已电话告知您处理情况，下一步将{next}。",
         "{lead_dept}将{next}并在{rdate2}前回访{place}的居民。")


def reply(rng: random.Random, topic: Topic, *, title: str, place: str, road: str,
          unit: str | None = None, received: date | None = None) -> str:
    """A unit's answer: a stock opening and closing around a specific middle (who inspected
    what and when, what was found, what was done, what comes next)."""
    received = received or date(2025, 3, 1)

    def day(after: tuple[int, int]) -> Callable[[random.Random], str]:
        def pick(r: random.Random) -> str:
            d = received + timedelta(days=r.randint(*after))
            return f"{d.month}月{d.day}日"
        return pick

    lead = unit or rng.choice(topic.depts)
    others = tuple(d for d in topic.depts if d != lead) or topic.depts
    slots = _slots(topic, place=place, road=road, title=title, lead_dept=lead, dept2=others,
                   rdate=day((1, 4)), rdate2=day((5, 30)), checked=topic.checked, found=topic.found,
                   measure=topic.measures, next=topic.next_steps, nyear=str(received.year + 1))
    parts = [rng.choice(_REPLY_OPEN), rng.choice(_WENT), rng.choice(_FOUND), rng.choice(_DID),
             rng.choice(_NEXT), rng.choice(_REPLY_CLOSE)]
    return "".join(_fill(rng, p, slots) for p in parts)


def _stock(templates: Sequence[str]) -> frozenset[str]:
    return frozenset(c for t in templates for c in CLAUSE.findall(t) if "{" not in c)


# Clauses of the stock parts (greetings, closings, a reply's opening and closing): they repeat
# in real letters too, so the uniqueness figures may leave them out.
STOCK_CLAUSES = _stock(_STOCK_TEXTS + _REPLY_OPEN + _REPLY_CLOSE)
