"""The words the parser knows, and a community's own additions from config.yaml.

(Longer than most modules, on purpose: one job, the word lists, which read best together.)

The `lexicon:` section of config.yaml (all keys optional)::

    lexicon:
      places: [通仙路, 南门停车场, 村东头池塘]     # local places, reported as location.place
      aliases: {电驴: 电动车, 煤气: 燃气}          # dialect or local words → a word the parser knows
      categories:                                 # extra words per category (safety, sanitation, repair,
        safety: [飞线, 楼道充电]                    #   dispute, assistance, security, health, inquiry)
        repair: [化粪池满了]
      urgent: [水漫金山]                           # words that make a report urgent
      ack: [已通知租户]                            # extra ways to say "收到"
      chat: [接龙]                                 # words that mark chit-chat, never a report

Words are matched after normalisation (full-width → half-width, traditional → simplified for common
characters, lower case), so write them in simplified Chinese. A community word counts as a decisive cue
(weight 3). `Lexicon.from_mapping` raises `LexiconError(path, message)` for an unknown key, an unknown
category or a wrong shape; the config loader turns it into a file:line error. docs/lexicon.md has the same
in English and Chinese.

Built-in cue words carry weights: 3 = decisive, 2 = strong, 1 = weak (needs company). All words of one role
are compiled into one trie-shaped regular expression at construction (a few milliseconds), so matching runs
in C and a message costs a handful of scans whatever the size of the lexicon.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

CATEGORIES = ("safety", "sanitation", "repair", "dispute", "assistance", "security", "health", "inquiry", "other")

# Weighted cue words per category: 3 = decisive, 2 = strong, 1 = weak (needs company).
CATEGORY_WORDS: Mapping[str, Mapping[str, int]] = {
    "safety": {
        # fire, gas, electricity, structures, blocked escapes (general vocabulary, added with the second corpus batch)
        "火星": 3, "黑烟": 3, "浓烟": 3, "焦糊": 3, "烧焦味": 3, "线路": 2, "老化": 2, "电线杆": 2, "电线拖": 3,
        "消防车": 3, "消防门": 3, "防火门": 3, "井盖丢": 3, "井盖没了": 3, "掉进去": 2, "煤气罐": 3, "阀门": 2,
        "配电房": 3, "进水了": 1, "漫上来": 3, "洪水": 3, "涨水": 3, "山洪": 3, "滑坡": 3, "火越": 3, "烧到": 2,
        "刺鼻": 2, "呛": 2, "往下扔": 2, "砸到人": 3, "彩钢瓦": 2, "被风吹": 2, "烧荒": 3, "烧秸秆": 3,
        "气的味道": 3, "掉下去": 3, "花架": 2, "变压器": 3,
        "很危险": 2, "火一直着": 3, "关不上火": 3, "里面有烟": 3,
        "电动车": 1, "停满": 1, "风一吹": 2, "晃": 1, "推进电梯": 3, "进电梯": 3, "在充电": 2, "全是烟": 3,
        "好多烟": 3, "楼道里堆": 3, "楼道堆": 3, "堆满杂物": 3, "铁皮房": 3, "群租": 3, "墙裂": 3, "裂了": 2, "烧荒": 3,
        "推上楼": 3, "应急灯": 5,
        "着火": 3, "起火": 3, "失火": 3, "火灾": 3, "冒烟": 3, "烟味": 2, "焦味": 2, "烧焦": 2, "燃气": 3, "煤气": 3,
        "天然气": 3, "液化气": 3, "煤气罐": 3, "漏气": 3, "燃气味": 3, "嘶嘶": 2, "火花": 3, "打火": 2, "冒火": 3,
        "电线": 2, "漏电": 3, "触电": 3, "短路": 2, "飞线": 3, "飞线充电": 3, "电瓶车充电": 3, "电动车充电": 3,
        "楼道充电": 3, "拉线充电": 3, "充电": 2, "电动车进楼": 3, "电瓶车进电梯": 3, "电动车上楼": 3,
        "消防通道": 3, "消防栓": 4, "灭火器": 3, "安全出口": 3, "逃生通道": 3, "堵死": 1, "堵住": 1,
        "墙皮": 2, "瓷砖掉": 3, "掉瓷砖": 3, "外墙": 2, "掉下来": 2, "脱落": 2, "砸到": 2, "高空坠物": 3,
        "高空抛物": 3, "危房": 3, "裂缝": 2, "塌": 3, "倒塌": 3, "坍塌": 3, "广告牌": 2, "摇摇欲坠": 3, "隐患": 2,
        "爆炸": 3, "炸了": 2, "烟雾报警": 3, "电箱": 2, "配电箱": 2, "电表箱": 2, "私拉": 2,
    },
    "sanitation": {
        "剩饭": 3, "剩菜": 3, "外卖盒": 3, "扔满": 3, "流浪狗": 2, "拉屎": 3, "屎": 2, "返味": 3, "反味": 3,
        "黑乎乎": 2, "臭烘烘": 3, "臭死": 3, "沟": 1, "树叶": 2, "鸽子毛": 3, "油污": 3, "消杀": 3, "灭鼠": 3,
        "垃圾池": 3, "垃级": 3, "乱扔": 3, "乱丢": 3, "堆成山": 2,
        "鸟屎": 3, "修剪": 2,
        "小广告": 3, "清理": 2, "公厕": 3, "味道": 1, "味道很大": 3, "味道大": 3, "一股味": 2,
        "垃圾": 3, "垃圾桶": 3, "垃圾站": 3, "乱倒": 2, "倾倒": 2, "建筑垃圾": 3, "装修垃圾": 3, "臭": 2, "臭味": 3,
        "发臭": 3, "恶臭": 3, "脏": 2, "卫生": 2, "清扫": 2, "打扫": 2, "老鼠": 3, "蟑螂": 3, "蚊子": 2, "苍蝇": 2,
        "污水": 3, "化粪池": 3, "下水道": 2, "堵塞": 1, "反水": 2, "冒污水": 3, "狗屎": 3, "狗粪": 3, "粪便": 3,
        "落叶": 1, "杂物": 2, "堆满": 1, "堆放": 1, "清运": 3, "没人收": 2, "没人清": 2, "白色垃圾": 3, "排污": 3,
        "油烟": 2, "烧垃圾": 3, "焚烧": 2, "积水": 1, "青苔": 1, "杂草": 2, "野猫": 1, "死老鼠": 3,
    },
    "repair": {
        "热水": 2, "没热水": 3, "水箱": 3, "台阶": 2, "人行道": 2, "砖": 1, "秋千": 3, "滑梯": 3, "锈": 2,
        "刷漆": 2, "水渠": 3, "排水": 2, "网线": 2, "没网": 2, "电悌": 3, "不灵": 2, "没反应": 2, "漏了": 2,
        "哐当": 2, "卡住": 2, "抬不起来": 2, "不出水": 3, "水黄": 3, "泥汤": 2, "水质": 3, "闪": 1,
        "夹到人": 3,
        "被挖": 3, "没填": 2, "暖气": 3, "下水管": 3, "电线杆": 3, "太差": 1,
        "自来水": 2, "怪味": 1, "掉漆": 2, "墙面": 1, "盖板": 3, "断了": 2, "大坑": 3, "地砖": 3, "翘起来": 2,
        "坏了": 2, "坏掉": 2, "不亮": 3, "灯": 1, "路灯": 3, "楼道灯": 3, "声控灯": 3, "感应灯": 3, "停水": 3,
        "没水": 3, "水压": 2, "停电": 3, "没电": 2, "跳闸": 2, "爆管": 3, "水管": 3, "漏水": 3, "渗水": 3, "滴水": 2,
        "水管爆": 3, "水表": 2, "电梯": 3, "困在电梯": 3, "门禁": 3, "门禁卡": 2, "单元门": 2, "防盗门": 2,
        "坑": 2, "坑洼": 3, "路面": 2, "井盖": 3, "窨井": 3, "破损": 2, "松动": 2, "栏杆": 2, "扶手": 2,
        "修": 1, "维修": 2, "报修": 3, "换": 1, "水龙头": 2, "下水": 1, "管道": 2, "屋顶漏": 3, "漏雨": 3,
        "信号": 2, "宽带": 1, "监控坏": 3, "健身器材": 2, "座椅": 1, "路不平": 3, "道闸": 2, "抽水泵": 2,
        "水泵": 2, "晾衣杆": 1, "窗户": 1, "玻璃碎": 2, "停气": 3,
    },
    "dispute": {
        "烟头": 2, "撒尿": 3, "尿": 2, "牛": 2, "羊": 2, "鸡鸭": 2, "吃了": 1, "地里": 2, "欠": 2, "隔断": 2,
        "大喇叭": 3, "打牌": 1, "麻将": 2, "砸墙": 3, "震": 2, "越界": 3, "宅基地": 3, "篱笆": 2, "鸽子": 2,
        "睡不着": 3, "让不让人睡": 3, "剁": 2, "吵死": 3, "吵得": 3, "拖欠": 3, "不退": 3,
        "说了也不搬": 3, "地锁": 3, "咚咚": 3, "跑跳": 2,
        "违章建筑": 3, "车堵": 3, "堵在": 2, "说了也不听": 3, "说了不听": 3, "承包地": 3, "堆砖": 2, "敲敲打打": 3,
        "卸货": 2, "飘进": 2, "不牵绳": 3, "尿尿": 2, "空调外机": 3, "滴到我家": 3,
        "噪音": 3, "吵": 2, "太吵": 3, "扰民": 3, "装修声": 3, "广场舞": 2, "音响": 2, "半夜": 1, "狗叫": 3,
        "养狗": 2, "遛狗": 2, "不拴绳": 3, "宠物": 2, "乱停": 3, "停车": 2, "占车位": 3, "挡住": 2, "堵门口": 2,
        "车位": 2, "违建": 3, "违章搭建": 3, "搭建": 2, "占道": 2, "侵占": 2, "房东": 1, "租客": 1, "押金": 3,
        "房租": 3, "租金": 3, "退租": 3, "涨租": 3, "水电费": 2, "邻居": 2, "楼上": 1, "楼下": 1, "吵架": 2,
        "纠纷": 3, "矛盾": 2, "漏到我家": 3, "种菜": 2, "占用": 3, "私占": 3, "晾衣服": 1, "抽烟": 2,
    },
    "assistance": {
        "老两口": 3, "老年痴呆": 3, "痴呆": 3, "糊涂": 2, "没回来": 3, "没回家": 3, "没人应": 2, "没动静": 2,
        "没下楼": 3, "没见人": 3, "不接电话": 3, "关机": 2, "一个人住": 3, "腿脚不": 3, "搭把手": 3, "米面": 2,
        "没钱": 2, "聋哑": 3, "盲人": 3, "瘫痪": 3, "失能": 3, "老人家": 2, "阿婆": 2, "阿公": 2, "大爷": 2,
        "大娘": 2, "老爷爷": 2, "老奶奶": 2, "姨婆": 2, "外婆": 1, "外公": 1, "帮下": 1, "帮他": 1, "帮她": 1,
        "送过去": 2, "救济": 3, "困难户": 3, "临时救助": 3,
        "好几天没见": 3, "敲门不应": 3, "还没回来": 3, "电话关机": 3,
        "老人": 2, "老太太": 2, "老大爷": 2, "独居": 3, "空巢": 3, "我妈": 1, "我爸": 1, "奶奶": 1, "爷爷": 1,
        "打不通": 2, "联系不上": 3, "没人接": 2, "敲门": 2, "没人开门": 3, "走失": 3, "找不到": 1, "低保": 3,
        "补贴": 2, "残疾": 3, "残疾证": 3, "轮椅": 2, "帮忙": 1, "帮帮": 1, "求助": 2, "困难": 2, "救助": 3,
        "收玉米": 3, "收稻子": 3, "秋收": 3, "农忙": 3, "代买": 3, "买菜": 2, "买药": 2, "跑腿": 3, "孤寡": 3,
        "五保": 3, "特困": 3, "上门": 1, "陪护": 2, "送餐": 2, "行动不便": 3, "看看": 1, "看一下": 1,
    },
    "security": {
        "打起来": 3, "砸东西": 3, "骂人": 2, "喊救命": 3, "家暴": 3, "跟了一路": 3, "偷菜": 3, "翻围墙": 3,
        "陌生男": 3, "盯着": 2, "保健品": 3, "剪锁": 3, "被砸": 3, "喝醉": 3, "菜刀": 3, "刀": 2, "丢了": 1,
        "冒充": 3, "打钱": 3, "转账": 3, "中奖": 2, "头都破": 3, "打伤": 3,
        "拿着刀": 3, "打老婆": 3, "翻窗": 3, "翻墙": 3,
        "徘徊": 3, "假药": 3,
        "拿刀": 3, "追人": 2, "被人拿走": 3, "拿走": 2, "不认识的人": 3, "谁都能进": 3, "没人看": 2, "收钱": 2,
        "上门检查": 1,
        "小偷": 3, "偷": 3, "被偷": 3, "失窃": 3, "盗": 3, "撬": 3, "撬锁": 3, "入室": 3, "可疑": 3, "陌生人": 2,
        "鬼鬼祟祟": 3, "骗": 3, "诈骗": 3, "骗子": 3, "推销": 1, "冒充": 3, "打架": 3, "斗殴": 3, "打人": 3,
        "砍": 3, "持刀": 3, "抢": 3, "抢劫": 3, "报警": 2, "派出所": 2, "偷电动车": 3, "电瓶被偷": 3, "跟踪": 3,
        "砸车": 3, "闹事": 3, "醉汉": 2, "耍酒疯": 3, "传销": 3, "赌博": 3, "监控": 1,
    },
    "health": {
        "咬": 2, "被狗咬": 3, "被蛇咬": 3, "血": 2, "吐": 2, "呕吐": 3, "上吐下泻": 3, "腹泻": 3, "肿": 2,
        "疼": 2, "头晕": 3, "胸口": 3, "心脏病": 3, "吃错药": 3, "噎": 3, "烫": 2, "生病": 3, "住院": 2,
        "卫生站": 3, "卫生院": 2, "村医": 3, "家庭医生": 3, "慢性病": 3, "确诊": 3, "结核": 3, "感染": 3,
        "中毒": 3, "发紫": 3, "脸都紫": 3, "晕": 2, "病": 1, "摔了一跤": 3, "起不来": 3,
        "被车撞": 3, "躺在地上": 3, "说不出话": 3, "半边身子": 3, "动不了": 3, "卡住了": 2, "鱼刺": 3,
        "喘不过气": 3,
        "请医生": 3, "掉进": 3, "溺水": 3,
        "倒地": 3, "叫不醒": 3, "体检": 3, "医生": 3, "预约": 1,
        "晕倒": 3, "昏倒": 3, "摔倒": 2, "摔了": 2, "受伤": 3, "流血": 3, "出血": 3, "骨折": 3, "救护车": 3,
        "120": 3, "急救": 3, "心脏": 3, "中风": 3, "抽搐": 3, "发烧": 3, "发热": 3, "咳嗽": 2, "疫情": 3,
        "阳了": 3, "核酸": 3, "传染": 3, "疫苗": 3, "接种": 3, "看病": 2, "医院": 2, "不省人事": 3,
        "喘不上气": 3, "呼吸困难": 3, "中暑": 3, "食物中毒": 3, "拉肚子": 2, "过敏": 2, "药": 1, "血压": 2,
    },
    "inquiry": {
        "怎么弄": 2, "认证": 2, "养老金": 3, "廉租房": 3, "公租房": 3, "盖章": 3, "业主大会": 2, "几点到几点": 3,
        "哪个": 1, "要带": 2, "带哪些": 3, "提供什么": 3, "要什么材料": 3, "多少钱一个人": 3, "新农合": 3,
        "优待证": 3, "津贴": 2,
        "网格员电话": 3, "电话多少": 3,
        "医保": 3, "社保": 3, "养老保险": 3, "怎么办理": 3, "怎么申请": 3, "如何申请": 3, "如何办理": 3, "办理": 2,
        "申请": 2, "截止": 2, "什么时候交": 3, "交费": 2, "缴费": 2, "需要什么材料": 3, "材料": 1, "政策": 3,
        "居住证": 3, "户口": 3, "准生证": 3, "证明": 2, "开证明": 3, "入学": 3, "上学": 2, "学位": 2,
        "请问": 1, "咨询": 2, "在哪里办": 3, "去哪办": 3, "流程": 2, "手续": 2, "补办": 3, "身份证": 2,
        "电动车上牌": 3, "上牌": 3, "老年卡": 3, "高龄补贴": 2, "几点上班": 3, "办事": 2,
    },
}

URGENT_WORDS: Mapping[str, int] = {
    # second batch: acute injuries, people unaccounted for, violence, trapped people, flooding
    "被蛇咬": 3, "被狗咬": 2, "好多血": 3, "很多血": 3, "一直吐": 3, "吃错药": 3, "喘不上来": 3, "发紫": 3, "脸都紫": 3,
    "噎": 3, "心脏病犯": 3, "犯病": 2, "喊救命": 3, "打起来": 3, "菜刀": 3, "头都破": 3, "正在偷": 3, "现在就在": 2,
    "剪锁": 2, "没回来": 2, "没人应": 2, "没动静": 2, "没下楼": 2, "没见人": 2, "不接电话": 2, "关机": 2,
    "被困": 3, "困人": 3, "漫上来": 3, "淹到": 3, "火星": 3, "火越": 3, "烧到": 2, "黑烟": 3, "焦糊": 3,
    "电线拖": 3, "杆倒了": 3, "差点踩": 2, "掉进去": 2, "小孩掉": 3,
    "气的味道": 3, "被车撞": 3, "躺在地上": 3, "说不出话": 3, "半边身子": 3, "动不了": 2, "好几天没见": 3,
    "敲门不应": 3, "还没回来": 3, "电话关机": 3, "拿着刀": 3, "打老婆": 3, "翻窗": 3, "夹到人": 3, "喘不过气": 3,
    "卡住了": 2, "掉下去了": 2, "叫得很惨": 2, "异味": 1,
    # general emergency vocabulary: fire, gas, electricity, water, bodies, people missing, violence, people trapped
    "火苗": 3, "明火": 3, "火光": 3, "烧着了": 3, "着火啦": 3, "失火了": 3, "燃气泄漏": 3, "泄漏": 2, "一股煤气": 3,
    "插座冒烟": 3, "电火花": 3, "起火花": 3, "水淹": 3, "淹水": 3, "往外冒水": 3, "涌出": 2, "昏迷": 3, "没有呼吸": 3,
    "没呼吸": 3, "心脏骤停": 3, "大出血": 3, "口吐白沫": 3, "吐血": 3, "窒息": 3, "噎住": 3, "烫伤": 2, "烧伤": 3,
    "坠楼": 3, "跳楼": 3, "轻生": 3, "自杀": 3, "摔下来": 2, "找不到了": 3, "没回家": 3, "一直没回来": 3, "失联": 3,
    "失踪": 3, "动手": 2, "打起来了": 3, "拿棍子": 3, "棍子": 2, "行凶": 3, "砍伤": 3, "家暴": 3, "闯进": 3, "破门": 3,
    "被困": 3, "困住": 3, "出不来": 2, "困了": 3, "塌方": 3, "砸伤": 3, "119": 3, "110": 3, "快打": 2, "冒出来": 2,
    "流进电表箱": 3, "里面有烟": 3, "火一直着": 3, "掉进": 3, "溺水": 3,
    "全是烟": 3, "好多烟": 3, "没人开": 3, "下坠": 3, "里面有人": 2, "拿刀": 3, "追人": 2, "叫不醒": 3,
    "着火": 3, "起火": 3, "失火": 3, "火灾": 3, "冒烟": 3, "燃气味": 3, "煤气味": 3, "天然气味": 3,
    "液化气味": 3, "漏气": 3, "嘶嘶": 3, "火花": 3, "冒火": 3, "漏电": 3, "触电": 3, "电线掉": 3, "电线垂": 2,
    "爆管": 3, "水管爆": 3, "水管裂": 3, "淹了": 3, "水漫": 3, "进水了": 2, "晕倒": 3, "昏倒": 3, "倒地": 3,
    "不省人事": 3, "抽搐": 3, "喘不上气": 3, "呼吸困难": 3, "流血": 3, "出血": 3, "联系不上": 3, "打不通": 3,
    "没人开门": 3, "走失": 3, "找不到人": 3, "不见了": 3, "打架": 3, "斗殴": 3, "打人": 3, "持刀": 3, "砍人": 3,
    "抢劫": 3, "正在撬": 3, "在撬": 3, "入室": 3, "有人撬": 3, "困在电梯": 3, "困电梯": 3, "救命": 3, "快来": 2,
    "赶紧": 1, "马上": 1, "危险": 2, "坍塌": 3, "塌了": 3, "倒塌": 3, "爆炸": 3, "摇摇欲坠": 3, "砸到人": 3,
    "高空坠物": 2, "救护车": 3, "120": 2, "骨折": 3, "中风": 3, "心脏病": 3, "食物中毒": 3, "中暑": 2,
    "着了": 2, "烧起来": 3, "浓烟": 3, "摔倒": 2, "爬不起来": 3, "起不来": 3, "冒黑烟": 3,
}

LOW_WORDS: Mapping[str, int] = {
    "建议": 3, "希望": 2, "能不能": 2, "可不可以": 2, "有空": 3, "不急": 3, "方便的时候": 3, "顺便": 2,
    "提个意见": 3, "提议": 3, "美观": 3, "刷个漆": 3, "掉漆": 3, "褪色": 3, "旧了": 2, "增设": 2, "加装": 2,
    "多放几个": 3, "加几个": 3, "考虑": 2, "有点脏": 2, "有点乱": 2, "不太好看": 3,
}

ACK_WORDS = (
    "收到", "已收到", "收到了", "收到收到", "已阅", "阅", "好的", "好", "好滴", "好嘞", "ok", "okay", "知道了", "明白",
    "明白了", "了解", "已了解", "收悉", "已知悉", "知悉", "已转发", "已转", "已通知", "转发了", "已转租客", "已转发给租客",
    "已通知租客", "已告知", "已读", "嗯嗯", "嗯", "👌", "👍", "🙏", "1", "已填", "已登记", "已报名", "收到谢谢",
    "收到,谢谢", "收到 谢谢", "好的谢谢", "已完成", "已接龙",
)

# Words that may surround an acknowledgement without making it anything else ("收到，已转发给租客了").
ACK_FILLERS = frozenset(("谢谢", "感谢", "辛苦了", "辛苦", "给租客", "租客", "租户", "群里", "了", "到各位", "各位", "大家",
                         "提醒", "楼里", "已经"))

# Words that contain a cue but mean something else ("偷偷" is not theft): matched, and counted for nothing.
MASK_WORDS = ("偷偷", "小偷小摸不", "充电宝", "手机充电", "修好", "不吵", "不臭")

# Acknowledgements that count without a pending notice; the rest (好的, 👌, 1 ...) only when one is pending.
STRONG_ACK = ("收到", "已收到", "收到了", "已阅", "已读", "收悉", "知悉", "已知悉", "已转发", "已转", "已通知", "转发了",
              "已转发给租客", "已通知租客", "已告知", "已报名", "已登记", "已填", "已接龙", "阅")
COMPLAINT_CUES = ("咬人", "太多了", "没人管", "谁管", "管一下", "怎么回事", "受不了", "太过分", "影响", "投诉")

QUERY_CUES = (
    "修了没", "修好没", "修了吗", "修好了吗", "好了没", "弄好没", "处理了没", "处理了吗", "处理得怎么样", "怎么样了",
    "进度", "有结果", "有消息", "有人管吗", "有人管没", "有人来吗", "什么时候修", "什么时候来", "什么时候能",
    "还要等多久", "多久能", "什么时候有人来", "办了没", "还没人来", "还没有人来", "还没回复", "还没回", "没人回", "批下来", "审核通过",
    "办好了没", "办下来", "到哪了", "咋样了", "怎么还没", "能修好吗", "修好吗", "跟进吗", "查询", "查一下", "到哪一步", "有没有下文", "有下文", "跟进", "落实了没", "反映的事",
    "报的", "反映的", "提的", "申请的", "上次说的", "之前说的",
)
REFERENCE_CUES = ("报的", "反映的", "提的", "申请的", "上次", "之前", "昨天", "前天", "上周", "前几天", "工单", "那个事",
                  "说的", "报修的", "登记的")

CHAT_WORDS = (
    "不错", "推荐", "好吃", "私聊", "有意者", "拎包入住", "急租", "认领", "投个票", "选手", "请大家吃", "吃糖",
    "考上", "快乐", "大吉大利", "抢到", "赶集", "捎我",
    "谢谢", "感谢", "辛苦", "辛苦了", "点赞", "赞", "早上好", "早安", "晚安", "大家好", "新年好", "节日快乐", "哈哈",
    "红包", "拼多多", "砍一刀", "帮我点", "投票", "助力", "转发抽奖", "优惠", "特价", "团购", "接龙", "代购", "微商",
    "加我微信", "扫码", "秒杀", "出售", "转让", "招聘", "兼职", "免费领", "恭喜发财", "生日快乐", "吃了吗",
    "好人一生平安", "有心了", "给力", "为你们点赞", "点个赞",
)
FIXED_CUES = ("修好了", "已经修好", "终于修好", "好了谢谢", "恢复了", "来电了", "来水了", "通了", "已经好了", "终于好了",
              "解决了", "搞定了", "处理好了", "弄好了", "清理干净", "收走了", "换好了", "亮了")
NOTICE_CUES = ("通知", "【", "温馨提示", "紧急通知", "各位居民", "各位业主", "各位租户", "各位村民", "特此通知", "转发",
               "请各位", "请大家", "公告")
HELP_CUES = ("谁能", "谁来", "有没有人管", "帮忙", "帮帮", "求助", "怎么办", "咋办", "请处理", "麻烦", "快来", "来人",
             "管管", "管一下", "处理一下", "反映", "投诉", "报修", "举报", "能不能", "希望",
             "建议", "请问", "救命", "赶紧", "马上")
ME_TOO_CUES = ("+1", "＋1", "加一", "我家也", "我们家也", "我这也", "我们这也", "我们楼也", "我们这边也", "同样", "一样",
               "也是", "也停", "也没", "也坏", "也有", "同问", "我也是", "附议")

# Places: suffixes that make a phrase a place, and shared outdoor areas as residents name them.
PLACE_WORDS = (
    "停车场", "地下车库", "车库", "地下室", "停车棚", "车棚", "自行车棚", "电动车棚", "垃圾站", "垃圾房", "菜市场", "农贸市场",
    "广场", "小广场", "公园", "花园", "绿化带", "池塘", "河边", "桥下", "桥头", "村口", "村头", "村尾", "村东头",
    "村西头", "祠堂", "小学", "幼儿园", "学校", "卫生院", "医院门口", "公厕", "厕所", "篮球场", "健身区", "健身广场",
    "快递柜", "快递点", "小卖部", "超市门口", "大门", "南门", "北门", "东门", "西门", "侧门", "后门", "正门",
    "巷口", "路口", "十字路口", "丁字路口", "公交站", "地铁口", "天桥", "涵洞", "菜地", "田边", "山脚", "水库",
    "菜场", "街市", "后巷", "驿站", "榕树头", "大树下", "球场", "操场", "晒谷场", "鱼塘", "老井", "村委", "路边",
)
GENERIC_PLACE_SUFFIXES = ("路", "街", "巷", "大道", "弄", "胡同", "村", "组", "广场", "公园", "桥", "小区")

# A small traditional → simplified table for the characters residents' phones most often produce.
TRADITIONAL = str.maketrans({
    "樓": "楼", "門": "门", "燈": "灯", "壞": "坏", "電": "电", "動": "动", "車": "车", "氣": "气", "漏": "漏",
    "號": "号", "單": "单", "棟": "栋", "區": "区", "圾": "圾", "垃": "垃", "們": "们", "這": "这", "麼": "么",
    "個": "个", "來": "来", "說": "说", "還": "还", "沒": "没", "問": "问", "題": "题", "報": "报", "處": "处",
    "理": "理", "謝": "谢", "請": "请", "幫": "帮", "應": "应", "關": "关", "開": "开", "鎖": "锁", "偷": "偷",
    "喚": "唤", "臭": "臭", "髒": "脏", "梯": "梯", "風": "风", "險": "险", "燒": "烧", "煙": "烟", "聽": "听",
    "噪": "噪", "鬧": "闹", "養": "养", "貓": "猫", "狗": "狗", "媽": "妈", "爺": "爷", "聯": "联", "繫": "系",
    "係": "系", "醫": "医", "藥": "药", "傷": "伤", "錢": "钱", "費": "费", "辦": "办", "證": "证", "幾": "几",
    "層": "层", "戶": "户", "鄰": "邻", "居": "居", "長": "长", "網": "网", "格": "格", "維": "维", "修": "修",
    "膠": "胶", "線": "线", "熱": "热", "燃": "燃", "爐": "炉", "廁": "厕", "廣": "广", "場": "场", "園": "园",
    "業": "业", "執": "执", "總": "总", "體": "体", "頭": "头", "東": "东", "廠": "厂", "嗎": "吗", "麵": "面",
    "發": "发", "現": "现", "將": "将", "驗": "验", "時": "时", "間": "间", "後": "后", "從": "从", "與": "与",
    "為": "为", "給": "给", "讓": "让", "進": "进", "過": "过", "對": "对", "邊": "边", "點": "点", "裡": "里",
    "裏": "里", "舊": "旧", "亂": "乱", "掃": "扫", "積": "积", "塊": "块", "歲": "岁", "獨": "独", "緊": "紧",
    "急": "急", "漲": "涨", "租": "租", "騙": "骗", "盜": "盗", "竊": "窃", "搶": "抢", "圍": "围", "牆": "墙",
    "磚": "砖", "壓": "压", "雜": "杂", "堆": "堆", "灣": "湾", "橋": "桥", "衛": "卫", "災": "灾", "斷": "断", "閘": "闸", "龍": "龙", "頭": "头", "滿": "满", "堵": "堵", "塞": "塞",
    "著": "着", "濃": "浓", "竄": "窜", "洩": "泄", "暈": "晕", "觸": "触", "話": "话", "絡": "络", "見": "见",
    "丟": "丢", "蹤": "踪", "聲": "声", "響": "响", "護": "护", "鬥": "斗", "毆": "殴", "綁": "绑", "闖": "闯",
    "腦": "脑", "臉": "脸", "紅": "红", "嘔": "呕", "嚨": "咙", "禍": "祸", "輛": "辆", "涼": "凉", "殺": "杀",
    "倫": "伦", "夠": "够", "爛": "烂", "團": "团", "轉": "转", "鐘": "钟", "窗": "窗", "陽": "阳",
    "臺": "台", "檯": "台", "爬": "爬", "掛": "挂", "墜": "坠", "噴": "喷", "湧": "涌", "衝": "冲", "鄉": "乡",
    "張": "张", "劉": "刘", "陳": "陈", "趙": "赵", "黃": "黄", "瑪": "玛", "擊": "击", "傳": "传", "認": "认",
})


class LexiconError(ValueError):
    """The lexicon section has a wrong shape; `path` says where (e.g. 'lexicon.categories.safty')."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Lexicon:
    """Cue words, compiled into a few big regular expressions so matching runs in C."""

    categories: Mapping[str, Mapping[str, int]]
    urgent: Mapping[str, int]
    low: Mapping[str, int]
    ack: frozenset[str]
    chat: tuple[str, ...]
    places: tuple[str, ...]
    aliases: Mapping[str, str]

    def __post_init__(self) -> None:
        weights: dict[str, list[tuple[str, int]]] = {word: [] for word in MASK_WORDS}
        for category, words in self.categories.items():
            for word, weight in words.items():
                weights.setdefault(word, []).append((category, weight))
        object.__setattr__(self, "_category_of", MappingProxyType({w: tuple(v) for w, v in weights.items()}))
        object.__setattr__(self, "category_re", alternation(weights))
        object.__setattr__(self, "urgent_re", alternation(self.urgent))
        object.__setattr__(self, "low_re", alternation(self.low))
        object.__setattr__(self, "chat_re", alternation(self.chat))
        object.__setattr__(self, "ack_filler_re", alternation(self.ack | ACK_FILLERS))
        object.__setattr__(self, "place_re", alternation(self.places))
        object.__setattr__(self, "alias_re", alternation(self.aliases) if self.aliases else None)

    @property
    def category_of(self) -> Mapping[str, tuple[tuple[str, int], ...]]:
        return self._category_of  # type: ignore[attr-defined, no-any-return]

    @classmethod
    def default(cls) -> "Lexicon":
        return _DEFAULT

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> "Lexicon":
        """The built-in lexicon plus a deployment's own words (the `lexicon:` section of config.yaml)."""
        if not data:
            return _DEFAULT
        if not isinstance(data, Mapping):
            raise LexiconError("lexicon", "must be a mapping (places:, aliases:, categories:, urgent:, ack:, chat:)")
        allowed = ("places", "aliases", "categories", "urgent", "ack", "chat")
        for key in data:
            if key not in allowed:
                raise LexiconError(f"lexicon.{key}", f"unknown key; allowed: {', '.join(allowed)}")
        categories = {c: dict(words) for c, words in CATEGORY_WORDS.items()}
        extra = data.get("categories") or {}
        if not isinstance(extra, Mapping):
            raise LexiconError("lexicon.categories", "must map a category to a list of words")
        for category, words in extra.items():
            if category not in CATEGORIES or category == "other":
                raise LexiconError(f"lexicon.categories.{category}",
                                   f"unknown category; use one of: {', '.join(CATEGORIES[:-1])}")
            for word in _words(words, f"lexicon.categories.{category}"):
                categories[category][word] = 3
        urgent = dict(URGENT_WORDS)
        urgent.update({w: 3 for w in _words(data.get("urgent"), "lexicon.urgent")})
        aliases_in = data.get("aliases") or {}
        if not isinstance(aliases_in, Mapping):
            raise LexiconError("lexicon.aliases", "must map a local word to a known word, e.g. {电驴: 电动车}")
        aliases = {}
        for word, target in aliases_in.items():
            if not isinstance(target, str) or not target.strip() or not str(word).strip():
                raise LexiconError(f"lexicon.aliases.{word}", "must be a word")
            aliases[normalize(str(word))] = normalize(target)
        return cls(
            categories=MappingProxyType({c: MappingProxyType(w) for c, w in categories.items()}),
            urgent=MappingProxyType(urgent),
            low=LOW_WORDS,
            ack=frozenset(ACK_WORDS) | frozenset(_words(data.get("ack"), "lexicon.ack")),
            chat=CHAT_WORDS + tuple(_words(data.get("chat"), "lexicon.chat")),
            places=tuple(_words(data.get("places"), "lexicon.places")) + PLACE_WORDS,
            aliases=MappingProxyType(aliases),
        )


def _words(value: Any, path: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v).strip() for v in value):
        raise LexiconError(path, "must be a list of words")
    return [normalize(str(v)) for v in value]


def alternation(words: Iterable[str]) -> re.Pattern[str]:
    """One regex matching the longest of `words` at each position, built as a trie.

    A flat `a|ab|abc|...` alternation makes the regex engine try every word at every position; a trie
    (`a(?:b(?:c)?)?`) branches on one character at a time, which is several times faster for a lexicon of
    a thousand words and matches the same, longest, word.
    """
    trie: dict[str, Any] = {}
    numbers: set[str] = set()
    for word in {w for w in words if w}:
        if word.isdigit():  # 110, 120: a number only where it stands alone, not inside room 1205 or a phone number
            numbers.add(word)
            continue
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True
    # each number its own branch, its first digit before the look-behind ("1(?<!\d1)20(?!\d)", the same as
    # "(?<!\d)120(?!\d)"), and the trie's first level spliced in: every branch then begins with a character, from
    # which the engine learns the characters a match can begin with and skips, in C, the positions no word can
    # begin at (a look-around or a group in front hides them: the scan then starts a match at every position)
    parts = [re.escape(w[0]) + r"(?<!\d" + re.escape(w[0]) + ")" + re.escape(w[1:]) + r"(?!\d)"
             for w in sorted(numbers, key=lambda w: (-len(w), w))]
    if len(trie) <= 2 * _BUCKET:
        parts += [re.escape(ch) + _trie_pattern(child) for ch, child in sorted(trie.items())]
    else:
        parts += [_bucket(dict(group)) for group in _chunks(sorted(trie.items()), _BUCKET)]
    return re.compile("|".join(parts) if parts else r"(?!x)x")


# The regex engine tries a group's alternatives one after the other. With hundreds of first characters (the
# category words) that walk is most of the cost, so the first level is cut into buckets of _BUCKET, each behind
# a lookahead for its first characters. Words in different buckets begin differently: the same longest word wins.
# (A smaller lexicon keeps one group: the engine then skips, in C, the positions no word can begin at, which
# the lookaheads would hide from it.)
_BUCKET = 96


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _bucket(node: dict[str, Any]) -> str:
    return "(?=[" + "".join(re.escape(ch) for ch in sorted(node)) + "])" + _trie_pattern(node)


def _trie_pattern(node: dict[str, Any]) -> str:
    ends = "" in node
    branches = [re.escape(ch) + _trie_pattern(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    if len(branches) == 1 and not ends:
        return branches[0]
    singles = [b for b in branches if len(b) == 1]
    if len(singles) == len(branches) and len(singles) > 1:
        body = "[" + "".join(singles) + "]"
    else:
        body = "(?:" + "|".join(branches) + ")"
    return body + "?" if ends else body


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e"), None)
_TRANSLATE = {**TRADITIONAL, **_ZERO_WIDTH}  # one pass: no traditional character maps to a zero-width one
# str.translate looks every character up; most messages hold none of these, and a character class finds that in C
_TRANSLATED = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_TRANSLATE)) + "]")


def normalize(text: str) -> str:
    """Full-width → half-width, common traditional → simplified, lower case, zero-width characters removed."""
    text = unicodedata.normalize("NFKC", text)
    if _TRANSLATED.search(text) is not None:
        text = text.translate(_TRANSLATE)
    return text.lower()


_DEFAULT = Lexicon(
    categories=MappingProxyType({c: MappingProxyType(dict(w)) for c, w in CATEGORY_WORDS.items()}),
    urgent=URGENT_WORDS, low=LOW_WORDS, ack=frozenset(ACK_WORDS), chat=CHAT_WORDS, places=PLACE_WORDS,
    aliases=MappingProxyType({"电驴": "电动车", "电瓶车": "电动车", "煤气": "燃气", "液化气": "燃气"}),
)
