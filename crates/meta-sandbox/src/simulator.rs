//! The customer simulator: seeded customers message, react, comment and share things at a
//! given rate, deterministically for a given seed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::events::{self, CustomerEvent, CustomerMessage, InboundAttachment};
use super::seed::{Channel, Customer};
use super::util::Prng;
use super::{Inner, Sandbox};

const COFFEE: &[&str] = &[
    "Hi! Are you open on Sunday mornings?",
    "Do you have oat milk?",
    "Can I order 2 kg of the house blend for pickup tomorrow?",
    "Is the hazelnut blend dairy-free?",
    "Do you ship beans to Canada?",
    "I left my umbrella at your shop yesterday, did anyone find it?",
    "Do you do catering for office meetings? About 20 people.",
    "What's the difference between the Ethiopia and the Colombia roast?",
    "Is there wifi at the Main Street shop?",
    "My loyalty card stamps disappeared from the app \u{1F615}",
];
const BIKES: &[&str] = &[
    "How much is a full tune-up?",
    "Do you have the gravel bike in size M in stock?",
    "Can I book a test ride for Saturday morning?",
    "My rear derailleur is skipping gears, can you fix it this week?",
    "Do you sell kids' bikes?",
    "Is my bike ready? Order #4471",
    "Do you offer financing for e-bikes?",
    "What are your opening hours on holidays?",
];
const STORE: &[&str] = &[
    "Hi, is this item still available?",
    "Where is my order? It's been a week.",
    "Do you have gift cards?",
    "Can I return something I bought online in the store?",
];
/// Comments that moderators hide: links, money, follower offers.
const SPAM: &[&str] = &[
    "Get 10k followers FREE \u{1F449} cheap-likes.biz",
    "DM me to earn $500/day from home!!! \u{1F4B0}",
    "Check my bio for free gift cards \u{1F381}",
    "Invest in crypto now \u{2192} crypto-gains.xyz",
    "WhatsApp me +44 7700 900123 for wholesale prices",
];
const EMOJIS: &[&str] = &[
    "\u{2764}\u{FE0F}",
    "\u{1F44D}",
    "\u{1F602}",
    "\u{1F62E}",
    "\u{1F64F}",
];

/// A running simulator; stop it with [`Simulator::stop`] (or drop it).
pub struct Simulator {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Starts making `rate_per_minute` customer events (with jitter) from `seed`.
    pub fn start(sandbox: &Sandbox, rate_per_minute: f64, seed: u64) -> Simulator {
        let inner = sandbox.inner().clone();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let period = Duration::from_secs_f64(60.0 / rate_per_minute.max(0.01));
        let handle = tokio::spawn(async move {
            let mut rng = Prng::new(seed);
            loop {
                tokio::time::sleep(period.mul_f64(0.5 + rng.unit())).await;
                if flag.load(Ordering::Relaxed) || inner.is_stopped() {
                    return;
                }
                let Some(event) = next_event(&inner, &mut rng) else {
                    continue;
                };
                if let Err(e) = events::deliver(&inner, event).await {
                    tracing::debug!(error = %e, "simulated customer event skipped");
                }
            }
        });
        Simulator { stop, handle }
    }

    /// Stops making events.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.abort();
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn corpus(inner: &Inner, c: &Customer) -> &'static [&'static str] {
    let seed = inner.world.seed();
    let page = seed.page_of_account(&c.account_id).map(|p| p.id.as_str());
    if c.channel == Channel::WhatsApp || page == seed.pages.first().map(|p| p.id.as_str()) {
        COFFEE
    } else if page == seed.pages.get(1).map(|p| p.id.as_str()) {
        BIKES
    } else {
        STORE
    }
}

/// One plausible event for a random customer.
pub(crate) fn next_event(inner: &Inner, rng: &mut Prng) -> Option<CustomerEvent> {
    let seed = inner.world.seed();
    let c = rng.pick(&seed.customers)?.clone();
    let texts = corpus(inner, &c);
    let text = rng.pick(texts).map(|s| s.to_string()).unwrap_or_default();
    let customer = c.id.clone();
    let replied = inner.world.lock().last_outbound.get(&c.id).cloned();
    let msg = |text: String| CustomerEvent::Message(CustomerMessage::text(customer.clone(), text));
    let attachment = |kind: &str, caption: Option<String>| {
        CustomerEvent::Message(CustomerMessage {
            customer: customer.clone(),
            text: caption,
            attachment: Some(InboundAttachment {
                kind: kind.into(),
                url: None,
            }),
            ..CustomerMessage::default()
        })
    };
    let emoji = rng.pick(EMOJIS).map(|e| e.to_string());
    let roll = rng.below(100);
    let event = match c.channel {
        Channel::Messenger | Channel::Instagram => {
            let ig = c.channel == Channel::Instagram;
            match roll {
                0..=49 => msg(text),
                50..=59 => attachment(
                    ["image", "audio", "video", "file"][rng.below(if ig { 3 } else { 4 })],
                    None,
                ),
                60..=64 => CustomerEvent::Message(CustomerMessage {
                    quick_reply: Some(
                        ["OPENING_HOURS", "TALK_TO_HUMAN", "ORDER_STATUS"][rng.below(3)].into(),
                    ),
                    ..CustomerMessage::text(
                        customer.clone(),
                        ["Opening hours", "Talk to a person", "Order status"][rng.below(3)],
                    )
                }),
                65..=69 if replied.is_some() => CustomerEvent::Message(CustomerMessage {
                    reply_to: replied,
                    ..CustomerMessage::text(customer.clone(), "Thanks, that helps!")
                }),
                70..=74 => CustomerEvent::Postback {
                    customer,
                    title: "Get Started".into(),
                    payload: "GET_STARTED".into(),
                },
                75..=78 => CustomerEvent::Referral {
                    customer,
                    ad_id: format!("{}", 6_000_000_000_000 + rng.below(900) as u64),
                    referral_ref: "spring_campaign".into(),
                    ad_title: "Spring offers".into(),
                },
                79..=83 if replied.is_some() => CustomerEvent::Reaction {
                    customer,
                    message_id: None,
                    emoji: if rng.below(5) == 0 { None } else { emoji },
                },
                84..=86 => CustomerEvent::Echo {
                    customer,
                    text: "Thanks for your message! We'll reply shortly.".into(),
                },
                87..=89 => CustomerEvent::Comment { customer, text },
                90..=92 => CustomerEvent::Comment {
                    customer,
                    text: rng.pick(SPAM).map(|s| s.to_string()).unwrap_or_default(),
                },
                93..=95 if ig => CustomerEvent::StoryMention { customer },
                96..=97 if ig => CustomerEvent::StoryReply {
                    customer,
                    text: "Looks delicious \u{1F60D}".into(),
                },
                98..=99 if ig => CustomerEvent::Mention { customer },
                _ => msg(text),
            }
        }
        Channel::WhatsApp => match roll {
            0..=54 => msg(text),
            55..=66 => attachment("image", Some("Is this the one?".into())),
            67..=71 => attachment("audio", None),
            72..=79 => CustomerEvent::Location {
                customer,
                latitude: 38.7223 + rng.unit() / 100.0,
                longitude: -9.1393 + rng.unit() / 100.0,
                name: Some("Home".into()),
            },
            80..=84 => CustomerEvent::Contacts {
                customer,
                name: "Rita Alves".into(),
                phone: "+1 555-010-7788".into(),
            },
            85..=92 if replied.is_some() => CustomerEvent::ButtonReply {
                customer,
                id: "confirm_pickup".into(),
                title: "Confirm pickup".into(),
            },
            93..=99 if replied.is_some() => CustomerEvent::Reaction {
                customer,
                message_id: None,
                emoji,
            },
            _ => msg(text),
        },
    };
    Some(event)
}
