//! Seeded content: Page posts and comments, Instagram media and comments (times relative to
//! the sandbox's start).

use chrono::{DateTime, Duration as TimeDelta, Utc};

use super::seed::{Channel, Seed};
use super::world::State;

pub(crate) struct Post {
    pub id: String,
    pub page_id: String,
    pub message: String,
    pub created: DateTime<Utc>,
    pub picture: String,
}

#[derive(Clone)]
pub(crate) struct FbComment {
    pub id: String,
    pub page_id: String,
    pub post_id: String,
    pub parent_id: Option<String>,
    pub from_id: String,
    pub from_name: String,
    pub message: String,
    pub created: DateTime<Utc>,
    pub hidden: bool,
    pub deleted: bool,
    pub likes: u32,
    /// The Page likes it.
    pub page_liked: bool,
}

pub(crate) struct IgMedia {
    pub id: String,
    pub ig_id: String,
    pub caption: String,
    pub media_type: &'static str,
    pub product_type: &'static str,
    pub created: DateTime<Utc>,
    pub likes: u32,
    pub media_url: String,
    /// Stories with fewer than 5 viewers refuse insights.
    pub low_viewers: bool,
}

/// The Instagram account whose media carries the customers' mentions of the business (someone
/// else's media, which the business can read and reply to, never moderate).
pub(crate) const FOREIGN_IG_OWNER: &str = "17841499999999999";

#[derive(Clone)]
pub(crate) struct IgComment {
    pub id: String,
    pub ig_id: String,
    pub media_id: String,
    pub parent_id: Option<String>,
    pub from_id: String,
    pub username: String,
    pub text: String,
    pub created: DateTime<Utc>,
    pub hidden: bool,
    pub deleted: bool,
    pub likes: u32,
    /// The account this comment @mentions, on someone else's media (a mention).
    pub mention_of: Option<String>,
}

const COFFEE_POSTS: [&str; 3] = [
    "Our autumn blend is here: hazelnut and maple, roasted in-house \u{2615}",
    "We're hiring baristas! Send us a message if you love coffee and people.",
    "Closed Monday for a private event. See you Tuesday!",
];
const BIKE_POSTS: [&str; 2] = [
    "Spring tune-up special: 20% off all services this week \u{1F6B2}",
    "Meet the new gravel line: test rides every Saturday.",
];
const COMMENTS: [&str; 6] = [
    "Is the hazelnut blend dairy-free?",
    "Do you ship beans to Canada?",
    "Love this place, best flat white in town!",
    "What time do you open on weekends?",
    "Can I book a test ride for Saturday morning?",
    "How long does a tune-up take?",
];

/// Seeds posts, comments, IG media and IG comments. Times are relative to `now`.
pub(crate) fn seed_content(seed: &Seed, state: &mut State, now: DateTime<Utc>, base_url: &str) {
    let mut seq = 0u64;
    let mut next = |prefix: &str, n: usize| {
        seq += 1;
        format!("{prefix}{n:03}{seq:011}")
    };
    for (i, page) in seed.pages.iter().enumerate() {
        let n = i + 1;
        let texts: Vec<String> = match n {
            1 => COFFEE_POSTS.iter().map(|s| s.to_string()).collect(),
            2 => BIKE_POSTS.iter().map(|s| s.to_string()).collect(),
            _ => vec![format!(
                "Welcome to {}! New arrivals every week.",
                page.name
            )],
        };
        let customers: Vec<_> = seed
            .customers
            .iter()
            .filter(|c| c.channel == Channel::Messenger && c.account_id == page.id)
            .collect();
        for (k, text) in texts.iter().enumerate() {
            let post_local = next("3", n);
            let post_id = format!("{}_{post_local}", page.id);
            let created = now - TimeDelta::days([1, 4, 12][k.min(2)]);
            state.posts.push(Post {
                id: post_id.clone(),
                page_id: page.id.clone(),
                message: text.clone(),
                created,
                picture: format!("{base_url}/_media/static/post/{post_local}.png"),
            });
            // Who comments: everyone on the newest post, one person on older ones.
            let commenters: Vec<_> = match k {
                0 => customers.iter().take(3).collect(),
                _ => customers
                    .iter()
                    .skip(k + 1)
                    .take(1)
                    .chain(customers.first())
                    .take(1)
                    .collect(),
            };
            for (j, c) in commenters.into_iter().enumerate() {
                let id = format!("{post_local}_{}", next("4", n));
                let created = created + TimeDelta::hours(j as i64 + 1);
                state.fb_comments.push(FbComment {
                    id: id.clone(),
                    page_id: page.id.clone(),
                    post_id: post_id.clone(),
                    parent_id: None,
                    from_id: c.id.clone(),
                    from_name: c.name(),
                    message: COMMENTS[(n + k + j) % COMMENTS.len()].into(),
                    created,
                    hidden: false,
                    deleted: false,
                    likes: (j as u32 * 3) % 5,
                    page_liked: false,
                });
                if k == 0 && j == 0 {
                    state.fb_comments.push(FbComment {
                        id: format!("{post_local}_{}", next("4", n)),
                        page_id: page.id.clone(),
                        post_id: post_id.clone(),
                        parent_id: Some(id),
                        from_id: page.id.clone(),
                        from_name: page.name.clone(),
                        message: "Thanks for asking! We'll check and get back to you.".into(),
                        created: created + TimeDelta::minutes(30),
                        hidden: false,
                        deleted: false,
                        likes: 1,
                        page_liked: false,
                    });
                }
            }
        }
        if let Some(ig) = &page.instagram {
            ig_content(seed, state, ig, n, now, base_url, &mut next);
        }
    }
    // The Instagram account without a Page has posts and comments too.
    for ig in &seed.instagram_login {
        ig_content(seed, state, ig, 99, now, base_url, &mut next);
    }
    seed_crowd(seed, state);
}

/// An Instagram account's media (a post, a reel, a story) and its customers' comments.
fn ig_content(
    seed: &Seed,
    state: &mut State,
    ig: &crate::seed::SeedIg,
    n: usize,
    now: DateTime<Utc>,
    base_url: &str,
    next: &mut dyn FnMut(&str, usize) -> String,
) {
    let ig_customers: Vec<_> = seed
        .customers
        .iter()
        .filter(|c| c.channel == Channel::Instagram && c.account_id == ig.id)
        .collect();
    let media = [
        (
            "IMAGE",
            "FEED",
            "Latte art Friday. Which one is your favourite?",
            2 * 24,
        ),
        (
            "VIDEO",
            "REELS",
            "How we roast: 60 seconds behind the scenes.",
            6 * 24,
        ),
        ("IMAGE", "STORY", "Today's special", 3),
    ];
    for (k, (media_type, product, caption, hours)) in media.into_iter().enumerate() {
        let id = format!("179{n:02}{:012}", k + 1);
        let created = now - TimeDelta::hours(hours);
        state.ig_media.push(IgMedia {
            id: id.clone(),
            ig_id: ig.id.clone(),
            caption: caption.into(),
            media_type,
            product_type: product,
            created,
            likes: 40 + (k as u32) * 17,
            media_url: format!("{base_url}/_media/static/ig/{id}.png"),
            low_viewers: product == "STORY" && n == 2,
        });
        let commenters: Vec<_> = match k {
            0 => ig_customers.iter().take(2).collect(),
            1 => ig_customers.iter().skip(2).take(2).collect(),
            _ => Vec::new(),
        };
        for (j, c) in commenters.into_iter().enumerate() {
            let cid = next("180", n);
            let created = created + TimeDelta::hours(j as i64 + 1);
            state.ig_comments.push(IgComment {
                id: cid.clone(),
                ig_id: ig.id.clone(),
                media_id: id.clone(),
                parent_id: None,
                from_id: c.id.clone(),
                username: c.username.clone().unwrap_or_default(),
                text: COMMENTS[(n + k + j + 2) % COMMENTS.len()].into(),
                created,
                hidden: false,
                deleted: false,
                likes: j as u32,
                mention_of: None,
            });
            if k == 0 && j == 0 {
                state.ig_comments.push(IgComment {
                    id: next("180", n),
                    ig_id: ig.id.clone(),
                    media_id: id.clone(),
                    parent_id: Some(cid),
                    from_id: ig.id.clone(),
                    username: ig.username.clone(),
                    text: "Thank you! \u{1F64F}".into(),
                    created: created + TimeDelta::minutes(20),
                    hidden: false,
                    deleted: false,
                    likes: 0,
                    mention_of: None,
                });
            }
        }
    }
}

/// People outside the seeded customers who comment on posts: questions, praise and spam, some
/// hidden by the business, some answered, on old posts too (past the private-reply week), so a
/// moderation queue has every kind of comment from the start.
/// Name, text, hidden, the Page's reply.
type CrowdComment = (&'static str, &'static str, bool, Option<&'static str>);

const FB_CROWD: [&[CrowdComment]; 3] = [
    &[
        ("Nadia Farouk", "Do you have decaf options?", false, None),
        (
            "Promo Bot",
            "Get 10k followers FREE \u{1F449} cheap-likes.biz",
            true,
            None,
        ),
        (
            "Earn Daily",
            "DM me to earn $500/day from home!!! \u{1F4B0}\u{1F4B0}",
            false,
            None,
        ),
        (
            "Tom Becker",
            "Best coffee in town, no question.",
            false,
            None,
        ),
    ],
    &[
        (
            "Lea Moreau",
            "Are you open on the holiday Monday?",
            false,
            Some("Yes, 9 to 3!"),
        ),
        ("Sven Ek", "Price for 1 kg?", false, None),
    ],
    &[
        (
            "Marta Silva",
            "Loved the event last week!",
            false,
            Some("Thank you for coming!"),
        ),
        (
            "Crypto King",
            "Invest in crypto now \u{2192} crypto-gains.xyz",
            true,
            None,
        ),
        ("Jon Park", "Any vegan pastries?", false, None),
    ],
];

const IG_CROWD: [(&str, &str, bool); 3] = [
    (
        "daily.deals.4u",
        "Check my bio for free iPhones \u{1F4F1}",
        false,
    ),
    ("nina.roasts", "Which beans are these?", false),
    ("spam_account_22", "follow for follow? f4f", true),
];

fn seed_crowd(seed: &Seed, state: &mut State) {
    let mut seq = 0u64;
    let posts: Vec<(String, String, DateTime<Utc>, String)> = state
        .posts
        .iter()
        .map(|p| {
            (
                p.id.clone(),
                p.page_id.clone(),
                p.created,
                p.message.clone(),
            )
        })
        .collect();
    let mut per_page: std::collections::HashMap<String, usize> = Default::default();
    for (post_id, page_id, created, _) in posts {
        let k = *per_page
            .entry(page_id.clone())
            .and_modify(|k| *k += 1)
            .or_insert(0);
        let Some(crowd) = FB_CROWD.get(k) else {
            continue;
        };
        let local = post_id.split('_').nth(1).unwrap_or(&post_id).to_string();
        for (j, (name, text, hidden, reply)) in crowd.iter().enumerate() {
            seq += 1;
            let id = format!("{local}_7{seq:010}");
            let at = created + TimeDelta::hours(j as i64 * 3 + 2);
            state.fb_comments.push(FbComment {
                id: id.clone(),
                page_id: page_id.clone(),
                post_id: post_id.clone(),
                parent_id: None,
                from_id: format!("70000{seq:010}"),
                from_name: (*name).into(),
                message: (*text).into(),
                created: at,
                hidden: *hidden,
                deleted: false,
                likes: (seq % 4) as u32,
                page_liked: false,
            });
            if let Some(reply) = reply {
                seq += 1;
                state.fb_comments.push(FbComment {
                    id: format!("{local}_7{seq:010}"),
                    page_id: page_id.clone(),
                    post_id: post_id.clone(),
                    parent_id: Some(id),
                    from_id: page_id.clone(),
                    from_name: seed
                        .page(&page_id)
                        .map(|p| p.name.clone())
                        .unwrap_or_default(),
                    message: (*reply).into(),
                    created: at + TimeDelta::minutes(45),
                    hidden: false,
                    deleted: false,
                    likes: 0,
                    page_liked: false,
                });
            }
        }
    }
    let media: Vec<(String, String, DateTime<Utc>)> = state
        .ig_media
        .iter()
        .filter(|m| m.product_type != "STORY")
        .map(|m| (m.id.clone(), m.ig_id.clone(), m.created))
        .collect();
    for (media_id, ig_id, created) in media {
        for (j, (username, text, hidden)) in IG_CROWD.iter().enumerate() {
            seq += 1;
            state.ig_comments.push(IgComment {
                id: format!("1807{seq:011}"),
                ig_id: ig_id.clone(),
                media_id: media_id.clone(),
                parent_id: None,
                from_id: format!("1784100{seq:08}"),
                username: (*username).into(),
                text: (*text).into(),
                created: created + TimeDelta::hours(j as i64 * 2 + 1),
                hidden: *hidden,
                deleted: false,
                likes: 0,
                mention_of: None,
            });
        }
    }
}
