//! The deterministic seeded world: ids, names and the relative times of seeded activity.
//!
//! Ids are numeric strings shaped like Meta's and never change between runs, so tests and demos
//! can rely on them. Times are relative to the sandbox's start.

use serde::Serialize;

/// The sandbox Facebook user who manages every Page.
pub const USER_ID: &str = "10000000000000001";
/// The system user behind WhatsApp business tokens.
pub const SYSTEM_USER_ID: &str = "10000000000000002";
/// The business portfolio owning the WhatsApp Business Account.
pub const BUSINESS_ID: &str = "2000000000000001";
/// The app's display name, as Meta shows it in debug_token and subscribed_apps.
pub const APP_NAME: &str = "Parley Sandbox";

/// Which product a customer talks to the business through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Messenger,
    Instagram,
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

/// A person with an id and a name.
#[derive(Debug, Clone, Serialize)]
pub struct SeedPerson {
    pub id: String,
    pub name: String,
}

/// An Instagram professional account linked to a Page.
#[derive(Debug, Clone, Serialize)]
pub struct SeedIg {
    pub id: String,
    pub username: String,
    pub name: String,
    pub profile_picture_url: String,
    pub followers_count: u64,
}

/// A Facebook Page managed by the sandbox user.
#[derive(Debug, Clone, Serialize)]
pub struct SeedPage {
    pub id: String,
    pub name: String,
    pub category: String,
    pub picture_url: String,
    pub instagram: Option<SeedIg>,
}

/// The WhatsApp Business Account.
#[derive(Debug, Clone, Serialize)]
pub struct SeedWaba {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub timezone_id: String,
    pub message_template_namespace: String,
}

/// The WhatsApp business phone number.
#[derive(Debug, Clone, Serialize)]
pub struct SeedPhone {
    pub id: String,
    pub display_phone_number: String,
    /// The same number as bare digits, as webhooks' `metadata.display_phone_number` carry it.
    pub digits: String,
    pub verified_name: String,
}

/// A seeded customer of one channel.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    /// PSID (Messenger), IGSID (Instagram) or wa_id (WhatsApp).
    pub id: String,
    pub channel: Channel,
    /// Page id (Messenger), IG account id (Instagram) or phone number id (WhatsApp).
    pub account_id: String,
    pub first_name: String,
    pub last_name: String,
    /// Instagram username (Instagram only).
    pub username: Option<String>,
    pub profile_pic: String,
    /// Profile withheld: Messenger profile reads fail with 100/33, Instagram reads omit
    /// `name` and `profile_pic`.
    pub withholds_profile: bool,
    /// Hours before the sandbox started of the customer's last inbound message, if any.
    pub last_inbound_hours_ago: Option<i64>,
}

impl Customer {
    /// "First Last".
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// All seeded ids and names.
#[derive(Debug, Clone, Serialize)]
pub struct Seed {
    pub app_id: String,
    pub app_name: String,
    pub graph_version: String,
    pub user: SeedPerson,
    pub system_user: SeedPerson,
    pub business_id: String,
    pub pages: Vec<SeedPage>,
    pub waba: SeedWaba,
    pub phone_number: SeedPhone,
    pub customers: Vec<Customer>,
    /// Instagram professional accounts with no Facebook Page: reachable only through
    /// Instagram Login (`graph.instagram.com`).
    pub instagram_login: Vec<SeedIg>,
}

/// The Instagram account without a Page ("acme.studio").
pub const STUDIO_IG_ID: &str = "17841400000009001";
const STUDIO_NAMES: [(&str, &str, &str); 3] = [
    ("Ines", "Duarte", "ines.draws"),
    ("Ravi", "Patel", "ravi.makes"),
    ("Lena", "Fischer", "lena.f"),
];

/// Seeded windows: in the 24 h window, human-agent-only, closed, never messaged.
const WINDOW_HOURS: [Option<i64>; 4] = [Some(2), Some(30), Some(9 * 24), None];

const MESSENGER_NAMES: [[(&str, &str); 4]; 2] = [
    [
        ("Maria", "Garcia"),
        ("Tom", "Becker"),
        ("Priya", "Nair"),
        ("Liam", "O'Brien"),
    ],
    [
        ("Jonas", "Weber"),
        ("Emma", "Dubois"),
        ("Kofi", "Mensah"),
        ("Hana", "Sato"),
    ],
];
const IG_NAMES: [[(&str, &str, &str); 4]; 2] = [
    [
        ("Sofia", "Rossi", "sofia.brews"),
        ("Kenji", "Watanabe", "kenji_w"),
        ("Ana", "Souza", "ana.souza"),
        ("Private", "User", "quiet.reader"),
    ],
    [
        ("Lucas", "Martin", "lucas.rides"),
        ("Zoe", "Clarke", "zoe_cycles"),
        ("Omar", "Haddad", "omar.h"),
        ("Nora", "Lind", "nora.lind"),
    ],
];
const STORE_NAMES: [(&str, &str); 2] = [("Alex", "Morgan"), ("Sam", "Taylor")];
const WA_NAMES: [(&str, &str); 4] = [
    ("Carlos", "Mendes"),
    ("Aisha", "Khan"),
    ("Mei", "Lin"),
    ("Peter", "Novak"),
];

/// Id of the `n`th Page (1-based).
pub fn page_id(n: usize) -> String {
    format!("{}", 101_000_000_000_000u64 + n as u64)
}

/// Id of the IG account linked to the `n`th Page.
pub fn ig_id(n: usize) -> String {
    format!("{}", 17_841_400_000_000_000u64 + n as u64)
}

/// Builds the seeded world for `page_count` Pages.
pub fn build(app_id: &str, graph_version: &str, page_count: usize, base_url: &str) -> Seed {
    let avatar = |id: &str| format!("{base_url}/_media/static/avatar/{id}.png");
    let mut pages = Vec::new();
    let mut customers = Vec::new();
    for n in 1..=page_count {
        let id = page_id(n);
        let (name, category, ig) = match n {
            1 => (
                "Acme Coffee".to_string(),
                "Coffee Shop",
                Some(("acmecoffee", 1840)),
            ),
            2 => (
                "Acme Bikes".to_string(),
                "Bicycle Shop",
                Some(("acmebikes", 80)),
            ),
            _ => (format!("Acme Store {n}"), "Shopping & Retail", None),
        };
        let instagram = ig.map(|(username, followers)| SeedIg {
            id: ig_id(n),
            username: username.into(),
            name: name.clone(),
            profile_picture_url: avatar(&ig_id(n)),
            followers_count: followers,
        });
        // Messenger customers: four on the first two Pages, two on each store.
        let names: Vec<(&str, &str)> = match n {
            1 | 2 => MESSENGER_NAMES[n - 1].to_vec(),
            _ => STORE_NAMES.to_vec(),
        };
        for (k, (first, last)) in names.into_iter().enumerate() {
            let psid = format!("2{:03}{:012}", n, k + 1);
            customers.push(Customer {
                profile_pic: avatar(&psid),
                id: psid,
                channel: Channel::Messenger,
                account_id: id.clone(),
                first_name: first.into(),
                last_name: last.into(),
                username: None,
                withholds_profile: k == 3,
                last_inbound_hours_ago: WINDOW_HOURS[k],
            });
        }
        if let Some(ig) = &instagram {
            for (k, (first, last, username)) in IG_NAMES[n - 1].iter().enumerate() {
                let igsid = format!("9{:03}{:012}", n, k + 1);
                customers.push(Customer {
                    profile_pic: avatar(&igsid),
                    id: igsid,
                    channel: Channel::Instagram,
                    account_id: ig.id.clone(),
                    first_name: (*first).into(),
                    last_name: (*last).into(),
                    username: Some((*username).into()),
                    withholds_profile: k == 3,
                    last_inbound_hours_ago: WINDOW_HOURS[k],
                });
            }
        }
        pages.push(SeedPage {
            picture_url: avatar(&id),
            id,
            name,
            category: category.into(),
            instagram,
        });
    }
    let phone = SeedPhone {
        id: "106000000000001".into(),
        display_phone_number: "+1 555-010-0100".into(),
        digits: "15550100100".into(),
        verified_name: "Acme Coffee".into(),
    };
    for (k, (first, last)) in WA_NAMES.iter().enumerate() {
        let wa_id = format!("1555000100{}", k + 1);
        customers.push(Customer {
            profile_pic: avatar(&wa_id),
            id: wa_id,
            channel: Channel::WhatsApp,
            account_id: phone.id.clone(),
            first_name: (*first).into(),
            last_name: (*last).into(),
            username: None,
            withholds_profile: false,
            last_inbound_hours_ago: WINDOW_HOURS[k],
        });
    }
    let studio = SeedIg {
        id: STUDIO_IG_ID.into(),
        username: "acme.studio".into(),
        name: "Acme Studio".into(),
        profile_picture_url: avatar(STUDIO_IG_ID),
        followers_count: 420,
    };
    for (k, (first, last, username)) in STUDIO_NAMES.iter().enumerate() {
        let igsid = format!("99000000000{:04}", k + 1);
        customers.push(Customer {
            profile_pic: avatar(&igsid),
            id: igsid,
            channel: Channel::Instagram,
            account_id: studio.id.clone(),
            first_name: (*first).into(),
            last_name: (*last).into(),
            username: Some((*username).into()),
            withholds_profile: false,
            last_inbound_hours_ago: WINDOW_HOURS[k],
        });
    }
    Seed {
        instagram_login: vec![studio],
        app_id: app_id.into(),
        app_name: APP_NAME.into(),
        graph_version: graph_version.into(),
        user: SeedPerson {
            id: USER_ID.into(),
            name: "Sandbox Admin".into(),
        },
        system_user: SeedPerson {
            id: SYSTEM_USER_ID.into(),
            name: "Parley Sandbox System User".into(),
        },
        business_id: BUSINESS_ID.into(),
        pages,
        waba: SeedWaba {
            id: "102000000000001".into(),
            name: "Acme WhatsApp".into(),
            currency: "USD".into(),
            timezone_id: "1".into(),
            message_template_namespace: "sandbox_3f2a_acme".into(),
        },
        phone_number: phone,
        customers,
    }
}

impl Seed {
    /// The Page with this id.
    pub fn page(&self, id: &str) -> Option<&SeedPage> {
        self.pages.iter().find(|p| p.id == id)
    }

    /// The Page whose linked IG account has this id, with that account.
    pub fn ig(&self, id: &str) -> Option<(&SeedPage, &SeedIg)> {
        self.pages.iter().find_map(|p| {
            p.instagram
                .as_ref()
                .filter(|ig| ig.id == id)
                .map(|ig| (p, ig))
        })
    }

    /// Any Instagram account, with its Page when it has one (Instagram Login accounts do not).
    pub fn ig_account(&self, id: &str) -> Option<(Option<&SeedPage>, &SeedIg)> {
        self.ig(id).map(|(p, ig)| (Some(p), ig)).or_else(|| {
            self.instagram_login
                .iter()
                .find(|ig| ig.id == id)
                .map(|ig| (None, ig))
        })
    }

    /// Whether the account has no Page (reached through Instagram Login only).
    pub fn is_instagram_login_only(&self, id: &str) -> bool {
        self.instagram_login.iter().any(|ig| ig.id == id)
    }

    /// A customer by id, by "First Last", by first name or by IG username (case-insensitive).
    pub fn customer(&self, key: &str) -> Option<&Customer> {
        let key = key.trim().trim_start_matches('+').trim_start_matches('@');
        self.customers.iter().find(|c| c.id == key).or_else(|| {
            self.customers.iter().find(|c| {
                c.name().eq_ignore_ascii_case(key)
                    || c.first_name.eq_ignore_ascii_case(key)
                    || c.username
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(key))
            })
        })
    }

    /// The Page that owns an account (the Page itself, or the Page an IG account is linked to).
    pub fn page_of_account(&self, account_id: &str) -> Option<&SeedPage> {
        self.page(account_id)
            .or_else(|| self.ig(account_id).map(|(p, _)| p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_numeric_and_unique() {
        let a = build("1", "v24.0", 30, "http://x");
        let b = build("1", "v24.0", 30, "http://x");
        assert_eq!(a.pages.len(), 30);
        let mut ids: Vec<&str> = a.customers.iter().map(|c| c.id.as_str()).collect();
        ids.extend(a.pages.iter().map(|p| p.id.as_str()));
        assert!(ids.iter().all(|id| id.chars().all(|c| c.is_ascii_digit())));
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert_eq!(a.customers[0].id, b.customers[0].id);
        assert_eq!(
            a.pages[0].instagram.as_ref().unwrap().username,
            "acmecoffee"
        );
        assert!(a.pages[2].instagram.is_none());
        assert_eq!(a.customer("maria").unwrap().channel, Channel::Messenger);
        assert_eq!(a.customer("@kenji_w").unwrap().channel, Channel::Instagram);
        assert_eq!(a.customer("+15550001001").unwrap().first_name, "Carlos");
    }
}
