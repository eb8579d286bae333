"""Every sentence and name callcoach shows, in Mandarin and English: one home for the report views, the
coaching messages, the analysers' evidence details, the role decision's basis and the web app's shell.

Tables are keyed by language ("zh", "en"); ``say(lang, table, key, **values)`` formats one entry.
Coaching messages live in ``coaching_messages.json`` beside this file (they are long and edited by coaches),
the web app's shell in ``ui_strings.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from pipeline.report.schema import Evidence

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "销售通话辅导报告",
        "source": "来源文件",
        "call_id": "通话编号",
        "language": "语言",
        "duration": "时长",
        "text_only": "仅文字转写",
        "summary": "总览",
        "topic": "主题",
        "check": "检查项",
        "result": "结果",
        "meeting": "见面推进",
        "meeting_q": "有没有争取当面见面？",
        "distraction": "客户状态",
        "distraction_q": "客户在认真听吗？销售有没有察觉？",
        "pushed": "提出见面",
        "concrete": "提议具体（时间/地点）",
        "outcome": "客户回应",
        "downgraded": "降级到更弱的渠道",
        "attempts": "争取次数",
        "distance_excuse": "以距离为借口",
        "distracted": "客户分心",
        "score": "分心指数",
        "threshold": "判定线",
        "checked": "开场确认是否方便",
        "adapted": "发现分心后及时调整",
        "yes": "是",
        "no": "否",
        "na": "不适用",
        "roles": "角色判断",
        "method": "判断方式",
        "rep_channel": "销售所在声道",
        "confidence": "可信度",
        "split_confidence": "两人声音区分可信度",
        "mono_warning": "⚠ 单声道录音：谁是销售、谁是客户是从混在一起的声音里推断的，区分可信度低，涉及角色的结论请核对。",
        "mono_note": "单声道录音：角色是从混在一起的两人声音里推断的。",
        "basis": "依据",
        "coaching": "辅导要点",
        "principle": "原则",
        "evidence": "证据",
        "no_evidence": "（无具体语句，针对整通电话）",
        "no_points": "没有辅导要点。",
        "meeting_evidence": "见面相关证据",
        "proposals": "见面提议",
        "when": "时间",
        "where": "地点",
        "distraction_signals": "分心信号",
        "not_measured": "未能测量的信号",
        "none_found": "无",
        "transcript": "通话记录",
        "kind": "类型",
        "speaker": "说话人",
        "time": "时间",
        "quote": "原话",
        "span": "时间段",
        "detail": "说明",
        "turn": "第 {n} 句",
        "timeline": "通话时间线",
        "timeline_hint": "点击色块或标记可从该处播放。",
        "no_times": "转写没有时间信息，无法绘制时间线。",
        "legend_meeting": "见面相关证据",
        "legend_signal": "分心信号",
        "text_only_note": "本报告来自文字转写，没有录音。",
        "audio_missing_note": "录音未嵌入本页面（文件过大或未提供）。",
        "player": "录音",
        "tech": "技术信息",
        "talk": "说话情况",
        "customer_named": "通话中提到的客户",
        "redacted": "已隐去的个人信息",
        "redacted_value": "{count} 处（{kinds}）",
        "pii_phone": "电话",
        "pii_id_number": "身份证号",
        "pii_bank_card": "银行卡号",
        "pii_email": "邮箱",
        "pipeline_version": "流程版本",
        "asr_model": "识别模型",
        "language_probability": "语言置信度",
        "channels": "声道数",
        "fake_stereo": "伪立体声",
        "lost_audio": "录音损坏、未能解码的片段",
        "latency": "客户回答延迟中位数",
        "long_pauses": "客户长停顿次数",
        "background": "客户背景声",
        "overlap": "双方同时说话",
        "interruptions": "客户插话次数",
        "speech_rate": "客户语速",
        "generated_by": "由 callcoach 生成",
        "colon": "：",
        "list_sep": "、",
        "lp": "（",
        "rp": "）",
        "vl": "【",
        "vr": "】",
        "comma": "，",
        "play_from": "从 {t} 播放",
        "uncertain": "需要人工核对",
        "likely": "是的可能性 {p:.0%}",
        "read_as": "读作：",
        "uncertain_hint": "这些结论证据不足或录音识别不清，请从标出的时间听一下再下判断。",
        "uncertain_item": "{finding}：{value}（可能性 {probability:.0%}，{reason}）",
        "listen_at": "请听 {t}",
        "weak_evidence": "证据偏弱",
        "low_asr_confidence": "这句识别不清",
        "meeting.pushed": "提出见面",
        "meeting.concrete": "提议具体",
        "meeting.downgraded": "降级到更弱的渠道",
        "distraction.distracted": "客户分心",
    },
    "en": {
        "title": "Sales call coaching report",
        "source": "Source",
        "call_id": "Call ID",
        "language": "Language",
        "duration": "Duration",
        "text_only": "text only",
        "summary": "Summary",
        "topic": "Topic",
        "check": "Check",
        "result": "Result",
        "meeting": "Meeting",
        "meeting_q": "Did the rep push for an in-person meeting?",
        "distraction": "Customer state",
        "distraction_q": "Was the customer really listening, and did the rep notice?",
        "pushed": "Meeting pushed",
        "concrete": "Concrete (day / time / place)",
        "outcome": "Outcome",
        "downgraded": "Downgraded to a weaker channel",
        "attempts": "Attempts",
        "distance_excuse": "Distance used as an excuse",
        "distracted": "Customer distracted",
        "score": "score",
        "threshold": "threshold",
        "checked": "Checked availability up front",
        "adapted": "Adapted to the distraction",
        "yes": "Yes",
        "no": "No",
        "na": "n/a",
        "roles": "Who is who",
        "method": "Method",
        "rep_channel": "Rep's channel",
        "confidence": "Confidence",
        "split_confidence": "Voice split confidence",
        "mono_warning": "⚠ Mono recording: who is the rep and who is the customer was inferred from one mixed channel and the split is unclear; check role-dependent findings.",
        "mono_note": "Mono recording: roles were inferred from the two voices on one mixed channel.",
        "basis": "Basis",
        "coaching": "Coaching points",
        "principle": "Principle",
        "evidence": "Evidence",
        "no_evidence": "(no specific turn: about the whole call)",
        "no_points": "No coaching points.",
        "meeting_evidence": "Meeting evidence",
        "proposals": "Meeting proposals",
        "when": "when",
        "where": "where",
        "distraction_signals": "Distraction signals",
        "not_measured": "Signals not measured",
        "none_found": "None",
        "transcript": "Transcript",
        "kind": "Kind",
        "speaker": "Speaker",
        "time": "Time",
        "quote": "Quote",
        "span": "Time span",
        "detail": "Detail",
        "turn": "turn {n}",
        "timeline": "Call timeline",
        "timeline_hint": "Click a block or marker to play from there.",
        "no_times": "The transcript has no timestamps, so there is no timeline.",
        "legend_meeting": "meeting evidence",
        "legend_signal": "distraction signal",
        "text_only_note": "This report was made from a text transcript; there is no recording.",
        "audio_missing_note": "The recording is not embedded in this page (too large or not provided).",
        "player": "Recording",
        "tech": "Technical details",
        "talk": "Talk",
        "customer_named": "Customer named in the call",
        "redacted": "Personal data removed",
        "redacted_value": "{count} ({kinds})",
        "pii_phone": "phone",
        "pii_id_number": "ID number",
        "pii_bank_card": "bank card",
        "pii_email": "e-mail",
        "pipeline_version": "Pipeline version",
        "asr_model": "ASR model",
        "language_probability": "Language probability",
        "channels": "Channels",
        "fake_stereo": "Fake stereo",
        "lost_audio": "Damaged audio, not decoded",
        "latency": "Customer reply latency (median)",
        "overlap": "Both talking at once",
        "interruptions": "Customer talked over the rep",
        "speech_rate": "Customer speech rate",
        "long_pauses": "Customer long pauses",
        "background": "Customer background",
        "generated_by": "Generated by callcoach",
        "colon": ": ",
        "list_sep": ", ",
        "lp": " (",
        "rp": ")",
        "vl": "[",
        "vr": "] ",
        "comma": ", ",
        "play_from": "Play from {t}",
        "uncertain": "Check by ear",
        "likely": "{p:.0%} likely yes",
        "read_as": "read as: ",
        "uncertain_hint": "The evidence for these verdicts is weak or the recording was hard to recognise: listen at the marked time before deciding.",
        "uncertain_item": "{finding}: {value} ({probability:.0%} likely, {reason})",
        "listen_at": "listen at {t}",
        "weak_evidence": "weak evidence",
        "low_asr_confidence": "words recognised with low confidence",
        "meeting.pushed": "Meeting pushed",
        "meeting.concrete": "Concrete proposal",
        "meeting.downgraded": "Downgraded to a weaker channel",
        "distraction.distracted": "Customer distracted",
    },
}

# Enumerated values from the schema and the analyzers' evidence/signal kinds. Unknown keys fall back to
# the raw value, so a new kind added by an analyzer still renders.
NAMES: dict[str, dict[str, str]] = {
    "zh": {
        # speakers
        "rep": "销售",
        "customer": "客户",
        "unknown": "未知",
        # verdicts
        "good": "做得好",
        "missed": "错失",
        "warning": "注意",
        # principles
        "meeting_push": "推动见面",
        "concrete_proposal": "提议具体",
        "channel": "不降级渠道",
        "distance": "距离不是借口",
        "availability_check": "确认是否方便",
        "customer_state": "察觉客户状态",
        "roles": "角色判断",
        "commitment_return": "承诺再来一趟",
        # outcomes
        "accepted": "接受",
        "declined": "拒绝",
        "deferred": "推迟",
        "none": "无",
        # role methods / channels
        "stereo_content": "立体声，按说话内容判断",
        "stereo_forced": "立体声，按指定声道",
        "diarised_mono": "单声道，按声音分人后按说话内容判断",
        "given": "已给定",
        "left": "左声道",
        "right": "右声道",
        # evidence kinds
        "proposal": "见面提议",
        "answer": "客户回应",
        "downgrade": "降级",
        "downgrade_accepted": "附和客户的降级",
        "distance_excuse": "距离借口",
        "not_a_push": "不算见面邀约",
        "talked_out_of_meeting": "自己打消了见面",
        "visit_customer": "上门拜访",
        "invite_to_our_site": "邀请来访",
        "neutral_place": "约在第三方地点",
        "viewing": "带看/实地看",
        "unspecified": "未说明方式",
        "past_meeting": "以前的见面",
        "video_meeting": "视频/线上会议",
        "service_logistics": "送货、安装或会务安排",
        "negated_proposal": "否定说法（不用来/来不了）",
        # background kinds
        "quiet": "安静",
        "tonal": "音乐/游戏类",
        "broadband": "噪声",
    },
    "en": {
        "rep": "Rep",
        "customer": "Customer",
        "unknown": "Unknown",
        "good": "Good",
        "missed": "Missed",
        "warning": "Warning",
        "meeting_push": "Push for the meeting",
        "concrete_proposal": "Be concrete",
        "channel": "Don't downgrade the channel",
        "distance": "Distance is no excuse",
        "availability_check": "Check availability",
        "customer_state": "Read the customer's state",
        "roles": "Roles",
        "commitment_return": "Commitment to come back",
        "accepted": "accepted",
        "declined": "declined",
        "deferred": "deferred",
        "none": "none",
        "stereo_content": "stereo, by content",
        "stereo_forced": "stereo, channel given",
        "diarised_mono": "mono, voices split, then by content",
        "given": "given",
        "left": "left",
        "right": "right",
        "proposal": "proposal",
        "answer": "answer",
        "downgrade": "downgrade",
        "downgrade_accepted": "went along with a downgrade",
        "distance_excuse": "distance excuse",
        "not_a_push": "not a push",
        "talked_out_of_meeting": "talked himself out of it",
        "visit_customer": "visit the customer",
        "invite_to_our_site": "invite to our site",
        "neutral_place": "neutral place",
        "viewing": "viewing / on-site visit",
        "unspecified": "unspecified",
        "past_meeting": "past meeting",
        "video_meeting": "video / online meeting",
        "service_logistics": "delivery, installation or event logistics",
        "negated_proposal": "said in the negative",
        "quiet": "quiet",
        "tonal": "music/game-like",
        "broadband": "noise",
    },
}

CHANNEL_NAMES: dict[str, dict[str, str]] = {
    "zh": {"wechat": "微信", "phone": "回头电话", "email": "邮件", "video": "视频会议", "materials": "发资料", "passive": "等客户联系"},
    "en": {"wechat": "WeChat", "phone": "a later call", "email": "email", "video": "a video call", "materials": "sending materials", "passive": "waiting for the customer to call"},
}
SIGNAL_NAMES: dict[str, dict[str, str]] = {
    "zh": {"explicit_state": "说自己在忙", "side_activity": "在做别的事", "asked_to_repeat": "要求重复", "talking_to_someone_else": "跟别人说话",
           "backchannel_streak": "只回“好好好/对对对”", "backchannel_repeat": "连声附和", "slow_responses": "回答很慢", "background_sound": "背景声音", "ended_call": "中途挂断"},
    "en": {"explicit_state": "said they were busy", "side_activity": "doing something else", "asked_to_repeat": "asked to repeat",
           "talking_to_someone_else": "talking to someone else", "backchannel_streak": "only “uh huh, yeah”",
           "backchannel_repeat": "rapid-fire agreement", "slow_responses": "slow replies", "background_sound": "background sound",
           "ended_call": "ended the call mid-pitch"},
}

# Channel and distraction-signal names: one spelling for the report's tables and the coaching messages.
for _lang, _names in NAMES.items():
    _names.update(CHANNEL_NAMES[_lang])
    _names.update(SIGNAL_NAMES[_lang])
LANGUAGE_NAMES = {"zh": {"zh": "中文", "en": "英文"}, "en": {"zh": "Mandarin", "en": "English"}}
METHOD_NONE = {"zh": "无法区分", "en": "could not tell apart"}
LIST_SEPARATOR = {"zh": "、", "en": ", "}

# How the role decision is explained (pipeline.analysis.roles).
ROLE_BASIS: dict[str, dict[str, str]] = {
    "zh": {
        "mono": "单声道录音：双方在同一声道，未区分销售和客户",
        "forced": "用户指定 --rep-channel {channel}",
        "content": "{channel}声道说话像销售（可能性 {probability:.0%}，依据自我介绍、介绍产品、提出见面、用“您”称呼、说话多少）",
        "example": "；例如 ",
        "tie": "双方说话内容没有区分度，暂定左声道为销售",
        "left": "左",
        "right": "右",
        "diarised": "单声道录音，按声音分成两人（{method}，区分可信度 {split:.0%}）；",
        "voice_content": "说话像销售的一方定为销售（可能性 {probability:.0%}）",
        "voice_tie": "双方说话内容没有区分度，暂定先开口的一方为销售",
        "given": "speakers labelled in the transcript",
        "none": "transcript has no speaker labels",
    },
    "en": {
        "mono": "mono recording: both voices on one channel, rep and customer not separated",
        "forced": "--rep-channel {channel} given by the user",
        "content": "{channel} channel talks like the rep ({probability:.0%} likely, from self-introduction, "
        "pitching, proposing, offering help, how much each side talks)",
        "example": "; e.g. ",
        "tie": "no content cue tells the parties apart; guessed the left channel is the rep",
        "left": "left",
        "right": "right",
        "diarised": "mono recording, voices told apart by diarisation ({method}, split confidence {split:.0%}); ",
        "voice_content": "the voice that talks like the rep is the rep ({probability:.0%} likely)",
        "voice_tie": "no content cue tells the voices apart; guessed the first voice to speak is the rep",
        "given": "speakers labelled in the transcript",
        "none": "transcript has no speaker labels",
    },
}

# The details of distraction signals (pipeline.analysis.distraction); {quote} is the customer's turn.
SIGNAL_DETAILS: dict[str, dict[str, str]] = {
    "zh": {
        "explicit_state": "客户说明自己在忙/不方便",
        "asked_to_repeat": "客户要求重复，没听清",
        "talking_to_someone_else": "客户在跟旁边的人说话",
        "side_activity": "客户在玩游戏或做别的事",
        "by_rules": "{state}: “{quote}”",
        "by_wording": "{state}（措辞判断，{confidence:.0%}）: “{quote}”",
        "backchannel_streak": "客户连续 {count} 次只回应附和词：{quotes}",
        "backchannel_repeat": "连声附和，敷衍回应：“{quote}”",
        "ended_call": "销售还在介绍时客户结束了通话：“{quote}”",
        "slow_responses": "客户有 {count} 次停顿超过 2.5 秒才回答（最长 {longest_s:.1f} 秒）",
        "background_sound": "客户沉默时背景有{kind}，{level_dbfs:.0f} dBFS",
        "tonal": "音乐/游戏类声音",
        "broadband": "噪声（交通/办公室）",
    },
    "en": {
        "explicit_state": "customer says they are busy or cannot talk",
        "asked_to_repeat": "customer asks to repeat, did not catch it",
        "talking_to_someone_else": "customer talks to someone else",
        "side_activity": "customer is playing a game or doing something else",
        "by_rules": "{state}: “{quote}”",
        "by_wording": "{state} (from the wording, {confidence:.0%}): “{quote}”",
        "backchannel_streak": "{count} customer replies in a row were only acknowledgements: {quotes}",
        "backchannel_repeat": "rapid-fire agreement: “{quote}”",
        "ended_call": "the customer ended the call mid-pitch: “{quote}”",
        "slow_responses": "{count} replies came after more than 2.5 s (longest {longest_s:.1f} s)",
        "background_sound": "{kind} at {level_dbfs:.0f} dBFS while the customer was silent",
        "tonal": "music/game-like sound",
        "broadband": "noise (traffic/office)",
    },
}

# Why a sound signal is missing (codes from pipeline.audio.acoustics, plus text-only input).
NOT_MEASURED: dict[str, dict[str, str]] = {
    "zh": {
        "text_only": "声音信号：文字转写输入，没有录音",
        "no_customer_channel": "声音信号：单声道录音，客户没有独立声道（未区分角色）",
        "mono_shared_channel": "背景声音、重叠和插话：单声道录音，两人共用一个声道，无法单独测量客户一方",
        "no_customer_silence": "背景声音：客户声道没有静默片段",
    },
    "en": {
        "text_only": "sound signals: text-only input, no recording",
        "no_customer_channel": "sound signals: mono recording, the customer has no channel of their own",
        "mono_shared_channel": "background sound, overlap and interruptions: mono recording, both voices share one channel",
        "no_customer_silence": "background sound: the customer's channel has no silent stretch",
    },
}


def say(language: str, table: dict[str, dict[str, str]], key: str, **values: object) -> str:
    """One entry of a table in the call's language (English for anything else), formatted."""
    return table[language if language in table else "en"][key].format(**values)


@lru_cache(maxsize=1)
def coaching_messages() -> dict[str, dict[str, str]]:
    return json.loads(resources.files("pipeline.report").joinpath("coaching_messages.json").read_text("utf-8"))


def coaching_message(language: str, key: str, **values: str) -> str:
    return coaching_messages()[language][key].format(**values)


UI_LANGUAGES = ("zh", "en")


@lru_cache(maxsize=1)
def ui_strings() -> dict[str, dict[str, str]]:
    """The web app's shell (``ui_strings.json``): navigation, statuses, forms, errors, finding names."""
    table = json.loads(resources.files("pipeline.report").joinpath("ui_strings.json").read_text("utf-8"))
    return {lang: table[lang] for lang in UI_LANGUAGES}


def ui(language: str, key: str, **values: object) -> str:
    return say(language, ui_strings(), key, **values)


@lru_cache(maxsize=1)
def _reasons_zh() -> list[tuple[re.Pattern[str], str]]:
    table = json.loads(resources.files("pipeline.report").joinpath("ui_strings.json").read_text("utf-8"))
    return [(re.compile(item["en"]), item["zh"]) for item in table["reasons_zh"]]


def ui_reason(language: str, reason: str) -> str:
    """A refusal's one-line reason (written in English where it is raised) in the user's language."""
    if language == "zh":
        for pattern, template in _reasons_zh():
            if pattern.match(reason):
                return pattern.sub(template, reason, count=1)
    return reason


def kind_label(kind: str, lang: str, reason: str | None = None, channels: Sequence[str] = ()) -> str:
    """An evidence kind with its reason or channels, as a coach reads it: "见面提议：上门拜访", "降级：微信、发资料"."""
    names, labels = NAMES[lang], LABELS[lang]
    head = names.get(kind, kind)
    values = [names.get(c, c) for c in channels] if channels else [names.get(reason, reason)] if reason else []
    return head + labels["colon"] + labels["list_sep"].join(values) if values else head


def evidence_label(evidence: Evidence, lang: str) -> str:
    return kind_label(evidence.kind, lang, evidence.reason, evidence.channels)
