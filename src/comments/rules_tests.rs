use super::*;

fn rule(match_all: bool, c: Conditions) -> CompiledRule {
    CompiledRule::compile(&RuleSpec {
        id: 1,
        name: "r",
        match_all,
        conditions: &c,
        action: RuleAction::Hide,
        saved_reply_id: None,
    })
    .expect("compiles")
}

fn facts(text: &str) -> CommentFacts<'_> {
    CommentFacts {
        text,
        author_id: Some("1784"),
        author_name: Some("Spam.Bot"),
        channel: ChannelId(7),
        platform: Platform::Instagram,
        post_id: Some("media_1"),
    }
}

fn keywords(words: &[&str]) -> Conditions {
    Conditions {
        keywords: words.iter().map(|w| w.to_string()).collect(),
        ..Conditions::default()
    }
}

#[test]
fn keywords_match_whole_words_case_folded_across_scripts() {
    let cases: &[(&[&str], &str, bool)] = &[
        (&["free"], "Get it FREE now", true),
        (&["free"], "carefree summer", false),
        (&["free"], "free!", true),
        (&["free"], "freebies", false),
        (&["buy now"], "Buy   now and save", true),
        (&["buy now"], "buy\nnow", true),
        (&["buy now"], "buynow", false),
        (&["straße"], "STRASSE", false),
        (&["straße"], "Die STRAßE ist lang", true),
        (&["ÉTÉ"], "un été chaud", true),
        (&["été"], "étés", false),
        (&["москва"], "Привет из МОСКВА!", true),
        (&["спам"], "антиспам", false),
        (&["😡"], "so angry 😡😡", true),
        (&["crypto"], "#crypto giveaway", true),
        (&["c++"], "I love C++ a lot", true),
        (&["ass"], "class assignment", false),
        (&["日本"], "日本語", true),
    ];
    for (words, text, expected) in cases {
        assert_eq!(
            rule(false, keywords(words)).matches(&facts(text)),
            *expected,
            "{words:?} in {text:?}"
        );
    }
}

#[test]
fn any_needs_one_condition_and_all_needs_every_one() {
    let c = keywords(&["win", "prize"]);
    assert!(rule(false, c.clone()).matches(&facts("you win")));
    assert!(!rule(true, c.clone()).matches(&facts("you win")));
    assert!(rule(true, c).matches(&facts("win a prize")));
}

#[test]
fn links_phone_numbers_and_email_addresses_are_recognised() {
    let link = Conditions {
        has_link: true,
        ..Conditions::default()
    };
    let phone = Conditions {
        has_phone: true,
        ..Conditions::default()
    };
    let email = Conditions {
        has_email: true,
        ..Conditions::default()
    };
    let cases: &[(&Conditions, &str, bool)] = &[
        (&link, "see https://spam.example/x", true),
        (&link, "visit www.cheap-stuff.net", true),
        (&link, "go to bit.ly/abc", true),
        (&link, "DM me at shop-now.com", true),
        (&link, "I paid 3.50 for it", false),
        (&link, "lovely photo", false),
        (&phone, "call +1 (555) 123-4567", true),
        (&phone, "whatsapp 0612345678", true),
        (&phone, "I was born in 1987", false),
        (&phone, "order 12 34", false),
        (&email, "write to Anna.B@example.org", true),
        (&email, "@anna what a view", false),
    ];
    for (c, text, expected) in cases {
        assert_eq!(
            rule(false, (*c).clone()).matches(&facts(text)),
            *expected,
            "{c:?} on {text:?}"
        );
    }
}

#[test]
fn patterns_are_case_insensitive_and_oversized_ones_are_refused() {
    let c = Conditions {
        pattern: Some(r"\bwin\w*\s+\$\d+".into()),
        ..Conditions::default()
    };
    assert!(rule(false, c.clone()).matches(&facts("WINNER $500 here")));
    assert!(!rule(false, c).matches(&facts("a winner")));

    assert_eq!(
        compile_pattern("(a{1000}){1000}").unwrap_err(),
        RuleError::PatternTooComplex
    );
    assert_eq!(
        compile_pattern(&"a".repeat(MAX_PATTERN_CHARS + 1)).unwrap_err(),
        RuleError::PatternTooLong
    );
    assert!(matches!(
        compile_pattern("(unclosed").unwrap_err(),
        RuleError::PatternInvalid(_)
    ));
    // Backreferences are a backtracking feature; the linear-time engine refuses them.
    assert!(matches!(
        compile_pattern(r"(a)\1").unwrap_err(),
        RuleError::PatternInvalid(_)
    ));
    // The classic catastrophic pattern compiles and, on a linear-time engine, simply answers.
    let evil = Conditions {
        pattern: Some("(a+)+$".into()),
        ..Conditions::default()
    };
    let attack = format!("{}!", "a".repeat(50_000));
    assert!(!rule(false, evil).matches(&facts(&attack)));
}

#[test]
fn scope_conditions_always_restrict() {
    let mut c = keywords(&["free"]);
    c.channels = vec![ChannelId(8)];
    assert!(!rule(false, c.clone()).matches(&facts("free")));
    c.channels = vec![ChannelId(7)];
    assert!(rule(false, c.clone()).matches(&facts("free")));
    c.platform = Some(Platform::Messenger);
    assert!(!rule(false, c.clone()).matches(&facts("free")));
    c.platform = None;
    c.post = Some("media_2".into());
    assert!(!rule(false, c.clone()).matches(&facts("free")));
    c.post = None;
    c.author_is_not = vec!["@spam.bot".into()];
    assert!(!rule(false, c).matches(&facts("free")));
}

#[test]
fn author_is_matches_username_or_id() {
    let c = Conditions {
        author_is: vec!["@SPAM.BOT".into()],
        ..Conditions::default()
    };
    assert!(rule(false, c).matches(&facts("hello")));
    let c = Conditions {
        author_is: vec!["1784".into()],
        ..Conditions::default()
    };
    assert!(rule(false, c).matches(&facts("hello")));
}

#[test]
fn a_rule_needs_a_content_condition_and_reply_rules_a_saved_reply() {
    let scope_only = Conditions {
        platform: Some(Platform::Instagram),
        ..Conditions::default()
    };
    let spec = |c: &'static Conditions, action| RuleSpec {
        id: 1,
        name: "r",
        match_all: false,
        conditions: c,
        action,
        saved_reply_id: None,
    };
    let scope_only: &'static Conditions = Box::leak(Box::new(scope_only));
    assert_eq!(
        CompiledRule::compile(&spec(scope_only, RuleAction::Hide)).unwrap_err(),
        RuleError::NoCondition
    );
    let words: &'static Conditions = Box::leak(Box::new(keywords(&["hi"])));
    assert_eq!(
        CompiledRule::compile(&spec(words, RuleAction::PrivateReply)).unwrap_err(),
        RuleError::NeedsSavedReply
    );
}

#[test]
fn the_first_matching_rule_in_order_wins() {
    let mut a = rule(false, keywords(&["free"]));
    a.id = 1;
    let mut b = rule(false, keywords(&["free", "win"]));
    b.id = 2;
    let rules = [a, b];
    assert_eq!(
        first_match(&rules, &facts("free stuff")).map(|r| r.id),
        Some(1)
    );
    assert_eq!(first_match(&rules, &facts("win")).map(|r| r.id), Some(2));
    assert!(first_match(&rules, &facts("nice")).is_none());
}

#[test]
fn the_fixed_patterns_compile() {
    assert!(LINK.is_some() && EMAIL.is_some() && PHONE_CANDIDATE.is_some());
}
