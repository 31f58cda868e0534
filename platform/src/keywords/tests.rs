use super::*;
use KeywordType::*;

const ALL: [KeywordType; 13] = [
    Thing,
    Number,
    Letter,
    Symbol,
    CharacterString,
    Time,
    Date,
    Amount,
    PhoneNumber,
    CarNumber,
    Name,
    Phrase,
    Enum,
];

#[test]
fn type_from_keyword_name() {
    assert_eq!(KeywordType::of("thing1"), Some(Thing));
    assert_eq!(KeywordType::of("thing"), Some(Thing));
    assert_eq!(KeywordType::of("character_string19"), Some(CharacterString));
    assert_eq!(KeywordType::of("phrase16"), Some(Phrase));
    assert_eq!(KeywordType::of("time2"), Some(Time));
    assert_eq!(KeywordType::of("date3"), Some(Date));
    assert_eq!(KeywordType::of("number4"), Some(Number));
    assert_eq!(KeywordType::of("letter5"), Some(Letter));
    assert_eq!(KeywordType::of("symbol6"), Some(Symbol));
    assert_eq!(KeywordType::of("amount7"), Some(Amount));
    assert_eq!(KeywordType::of("phone_number8"), Some(PhoneNumber));
    assert_eq!(KeywordType::of("car_number9"), Some(CarNumber));
    assert_eq!(KeywordType::of("name10"), Some(Name));
    assert_eq!(KeywordType::of("enum11"), Some(Enum));
    assert_eq!(KeywordType::of("enum_string12"), Some(Enum));
    assert_eq!(KeywordType::of("short_thing1"), None);
    assert_eq!(KeywordType::of("thing1x"), None);
    assert_eq!(KeywordType::of("Thing1"), None);
    assert_eq!(KeywordType::of(""), None);
    assert_eq!(KeywordType::of("12"), None);
}

#[test]
fn thing() {
    assert_eq!(fit(Thing, "  支部学习  "), "支部学习");
    assert_eq!(fit(Thing, "第一行\n第二行\t完"), "第一行 第二行 完");
    let title = "学习贯彻习近平新时代中国特色社会主义思想主题教育专题党课";
    let v = fit(Thing, title);
    assert_eq!(v.chars().count(), 20);
    assert!(v.ends_with('…'));
    assert!(title.starts_with(v.trim_end_matches('…')));
    assert_eq!(
        fit(Thing, "恰好二十个字恰好二十个字恰好二十个字恰好"),
        "恰好二十个字恰好二十个字恰好二十个字恰好"
    );
    assert_eq!(fit(Thing, "党课🎉通知"), "党课通知");
    assert_eq!(fit(Thing, "🎉"), "无");
    assert_eq!(fit(Thing, ""), "无");
    assert!(validate(Thing, "3月党课（第2期）: 参会").is_ok());
    assert!(validate(Thing, "党课🎉").is_err());
    assert!(validate(Thing, "").is_err());
    assert!(validate(Thing, "一二三四五六七八九十一二三四五六七八九十一").is_err());
}

#[test]
fn phrase() {
    assert_eq!(fit(Phrase, "已发布"), "已发布");
    assert_eq!(fit(Phrase, "已发布 (new)"), "已发布");
    assert_eq!(fit(Phrase, "请及时完成学习任务"), "请及时完成");
    assert_eq!(fit(Phrase, "OK!"), "通知");
    assert_eq!(fit(Phrase, ""), "通知");
    assert!(validate(Phrase, "待学习").is_ok());
    assert!(validate(Phrase, "待学习1").is_err());
    assert!(validate(Phrase, "待 学习").is_err());
    assert!(validate(Phrase, "一二三四五六").is_err());
}

#[test]
fn character_string() {
    assert_eq!(fit(CharacterString, "DK-2026-001"), "DK-2026-001");
    assert_eq!(fit(CharacterString, "第3期 No.12"), "3No.12");
    assert_eq!(fit(CharacterString, "ＡＢＣ１２３"), "ABC123");
    assert_eq!(fit(CharacterString, "党课"), "-");
    assert_eq!(fit(CharacterString, &"x".repeat(40)).len(), 32);
    assert!(validate(CharacterString, "ABC-123_x").is_ok());
    assert!(validate(CharacterString, "编号123").is_err());
    assert!(validate(CharacterString, "a b").is_err());
}

#[test]
fn number() {
    assert_eq!(fit(Number, "12"), "12");
    assert_eq!(fit(Number, "共 1,234.50 分"), "1234.50");
    assert_eq!(fit(Number, "第３期"), "3");
    assert_eq!(fit(Number, "无"), "0");
    assert_eq!(fit(Number, &"9".repeat(40)), "9".repeat(32));
    let v = fit(Number, &format!("{}.{}", "1".repeat(30), "2".repeat(10)));
    assert_eq!(v, format!("{}.2", "1".repeat(30)));
    assert!(validate(Number, "3.14").is_ok());
    assert!(validate(Number, "-3").is_err());
    assert!(validate(Number, "3.").is_err());
    assert!(validate(Number, "三").is_err());
}

#[test]
fn letter_and_symbol() {
    assert_eq!(fit(Letter, "ABC党课def1"), "ABCdef");
    assert_eq!(fit(Letter, "党课"), "NA");
    assert!(validate(Letter, "abc").is_ok());
    assert!(validate(Letter, "ab1").is_err());
    assert_eq!(fit(Symbol, "党课!?-+*/"), "!?-+*");
    assert_eq!(fit(Symbol, "党课"), "-");
    assert!(validate(Symbol, "#").is_ok());
    assert!(validate(Symbol, "#a").is_err());
    assert!(validate(Symbol, "!!!!!!").is_err());
}

#[test]
fn time_and_date() {
    for v in [
        "2026年12月01日 09:00",
        "2026年12月1日 9:00",
        "09:00",
        "2026-12-01 09:00:30",
        "2026/12/01 09:00",
        "09:00~11:30",
        "2026年12月01日 09:00 ~ 2026年12月01日 11:30",
    ] {
        assert!(validate(Time, v).is_ok(), "{v}");
        assert_eq!(fit(Time, v), v, "{v}");
    }
    for v in [
        "2026年12月01日",
        "2026-12-01",
        "2026年12月01日 09:00",
        "2026年12月01日~2026年12月03日",
        "2026年12月01日 09:00~11:30",
    ] {
        assert!(validate(Date, v).is_ok(), "{v}");
        assert_eq!(fit(Date, v), v, "{v}");
    }
    assert!(validate(Time, "2026年12月01日").is_err());
    assert!(validate(Date, "09:00").is_err());
    assert!(validate(Time, "25:00").is_err());
    assert!(validate(Time, "9点").is_err());
    assert!(validate(Date, "2026年2月30日").is_err());
    assert!(validate(Date, "2028年2月29日").is_ok());
    assert!(validate(Date, "12月1日").is_err());
    assert!(validate(Time, "09:00~10:00~11:00").is_err());
    assert_eq!(
        fit(Time, "2026年12月01日 周二 09:00"),
        "2026年12月01日 09:00"
    );
    assert_eq!(fit(Time, "  ０９：００ "), "09:00");
    assert_eq!(fit(Time, "上午9:30开始"), "9:30");
    assert_eq!(fit(Date, "时间：2026-12-01（周二）"), "2026-12-01");
    assert_eq!(fit(Time, "2026年12月01日全天"), "2026年12月01日 00:00");
    assert_eq!(fit(Time, "明天上午"), "00:00");
    assert_eq!(fit(Date, "明天"), "1970年01月01日");
}

#[test]
fn amount() {
    for v in ["¥100", "100元", "￥12.50", "$3.5", "0.01元", "9999999999"] {
        assert!(validate(Amount, v).is_ok(), "{v}");
        assert_eq!(fit(Amount, v), v);
    }
    assert!(validate(Amount, "12345678901").is_err());
    assert!(validate(Amount, "1.234").is_err());
    assert!(validate(Amount, "一百元").is_err());
    assert_eq!(fit(Amount, "党费 1,200.456 元"), "1200.45元");
    assert_eq!(fit(Amount, "￥ 30"), "¥30");
    assert_eq!(fit(Amount, "免费"), "0元");
}

#[test]
fn phone_number() {
    assert_eq!(fit(PhoneNumber, "+86-0766-66888866"), "+86-0766-66888866");
    assert_eq!(fit(PhoneNumber, "电话：138 0013 8000"), ":13800138000");
    assert_eq!(fit(PhoneNumber, "无"), "-");
    assert!(validate(PhoneNumber, "+86-0766-66888866").is_ok());
    assert!(validate(PhoneNumber, "+86-0766-668888661").is_err());
    assert!(validate(PhoneNumber, "138 0013").is_err());
}

#[test]
fn car_number() {
    assert_eq!(fit(CarNumber, "粤A8P8F8"), "粤A8P8F8");
    assert_eq!(fit(CarNumber, "粤 a·12345 警"), "粤A12345警");
    assert_eq!(fit(CarNumber, "粤A中123456789"), "粤A123459");
    assert_eq!(fit(CarNumber, "---"), "无");
    assert!(validate(CarNumber, "京A12345").is_ok());
    assert!(validate(CarNumber, "京A中2345").is_err());
    assert!(validate(CarNumber, "京A1234567").is_err());
}

#[test]
fn name() {
    assert_eq!(fit(Name, "张三"), "张三");
    assert_eq!(fit(Name, "欧阳·娜娜"), "欧阳·娜娜");
    assert_eq!(fit(Name, "Zhang San"), "Zhang San");
    assert_eq!(
        fit(Name, "一二三四五六七八九十一二"),
        "一二三四五六七八九十"
    );
    assert_eq!(
        fit(Name, "Alexander Maximilian Smith"),
        "Alexander Maximilian"
    );
    assert_eq!(fit(Name, "李4"), "李");
    assert_eq!(fit(Name, "1234"), "成员");
    assert!(validate(Name, "张三").is_ok());
    assert!(validate(Name, "Zhang San-Li").is_ok());
    assert!(validate(Name, "张三Zhang San").is_err());
    assert!(validate(Name, "张3").is_err());
}

#[test]
fn enum_is_only_trimmed() {
    assert_eq!(fit(Enum, " 已完成 "), "已完成");
    assert_eq!(fit(Enum, ""), "");
    assert!(validate(Enum, "已完成").is_ok());
    assert!(validate(Enum, " ").is_err());
}

/// Deterministic pseudo-random strings from a pool of tricky characters.
fn tricky_inputs() -> Vec<String> {
    let mut inputs: Vec<String> = [
        "",
        " ",
        "\n\t",
        "🎉🎉🎉",
        "👨‍👩‍👧‍👦",
        "é",
        "\u{200B}",
        "\u{FEFF}党课",
        "~",
        "~~",
        "09:00~",
        "~09:00",
        "2026年",
        "2026-13-01",
        "99:99",
        "1.2.3",
        "..5",
        "¥",
        "元",
        "¥¥100元元",
        "-1",
        ",,,",
        "第1期 No.12 党课《学习》😀",
        "ＡＢＣ　１２３",
        "𠮷野家",
        "\u{0000}\u{0007}",
        "a\u{0301}",
    ]
    .iter()
    .map(std::string::ToString::to_string)
    .collect();
    inputs.push("学".repeat(200));
    inputs.push("学习贯彻党的二十大精神 Party lesson 2026 🎉 ".repeat(8));
    inputs.push("9".repeat(200));
    inputs.push("a".repeat(200));
    inputs.push("2026年12月01日 09:00".repeat(3));
    let pool: Vec<char> = "学习党课 aZ09.,:~-¥元年月日\n\t🎉😀é\u{200B}\u{FE0F}！？１：（）·𠮷/+#"
        .chars()
        .collect();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for len in 0..400 {
        let mut s = String::new();
        for _ in 0..(len % 60) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(pool[usize::try_from(seed % pool.len() as u64).unwrap()]);
        }
        inputs.push(s);
    }
    inputs
}

#[test]
fn fit_always_validates() {
    for kind in ALL {
        if kind == Enum {
            continue;
        }
        for raw in tricky_inputs() {
            let v = fit(kind, &raw);
            assert!(
                validate(kind, &v).is_ok(),
                "{kind:?}: fit({raw:?}) = {v:?}: {:?}",
                validate(kind, &v)
            );
            // Fitting is idempotent.
            assert_eq!(fit(kind, &v), v, "{kind:?} {raw:?}");
        }
    }
}
