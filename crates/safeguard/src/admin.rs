//! Administration from the command line: agencies, users, API tokens.

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;
use safeguard_core::access::Role;
use safeguard_core::{Agency, AgencyId, AgencyKind};

use crate::DatabaseArgs;

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {text:?}; roles are {}", all.join(", "))
    })
}

fn parse_kind(text: &str) -> Result<AgencyKind, String> {
    AgencyKind::parse(text).ok_or_else(|| {
        let all: Vec<&str> = AgencyKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown agency kind {text:?}; kinds are {}", all.join(", "))
    })
}

/// Agency commands.
#[derive(Subcommand)]
pub enum AgencyCommand {
    /// Register an agency (or rename it).
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Identifier: lower-case letters, digits and hyphens.
        #[arg(long)]
        id: AgencyId,
        /// Name as people know it.
        #[arg(long)]
        name: String,
        /// Kind of service.
        #[arg(long, value_parser = parse_kind)]
        kind: AgencyKind,
    },
    /// List agencies.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Post the agency's alerts to a URL, signed with HMAC-SHA256 (the secret is shown once).
    Webhook {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The agency.
        #[arg(long)]
        id: AgencyId,
        /// Where to post (`https://...`, or `http://...` inside a trusted network).
        #[arg(long)]
        url: String,
    },
}

/// User commands.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from standard input (one line), or generated and
    /// printed once when standard input is empty.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Sign-in name.
        #[arg(long)]
        id: String,
        /// Their agency.
        #[arg(long)]
        agency: AgencyId,
        /// Their name.
        #[arg(long)]
        name: String,
        /// A role; repeat for several.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Disable a user (ending their sessions), or enable them again.
    Disable {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Sign-in name.
        id: String,
        /// Enable instead.
        #[arg(long)]
        enable: bool,
    },
    /// Replace a user's roles.
    Roles {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Sign-in name.
        id: String,
        /// A role; repeat for several.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
    },
}

/// API token commands.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token for an agency's system; it is printed once and only its hash is kept.
    Add {
        #[command(flatten)]
        db: DatabaseArgs,
        /// A name for the token (`police-niche`).
        #[arg(long)]
        name: String,
        /// The agency whose entries it may write.
        #[arg(long)]
        agency: AgencyId,
        /// How many days it lasts.
        #[arg(long, default_value_t = safeguard_store::accounts::TOKEN_DAYS)]
        days: i64,
    },
    /// Replace a live token with a new one of the same name; the old one keeps working for a
    /// day while the agency's system switches over.
    Rotate {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The token's name.
        #[arg(long)]
        name: String,
        /// How many days the new token lasts.
        #[arg(long, default_value_t = safeguard_store::accounts::TOKEN_DAYS)]
        days: i64,
    },
    /// Revoke a token by name.
    Revoke {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The token's name.
        name: String,
    },
}

pub fn agency(command: AgencyCommand) -> anyhow::Result<()> {
    match command {
        AgencyCommand::Add { db, id, name, kind } => {
            db.open()?.put_agency(&Agency {
                id: id.clone(),
                name,
                kind,
            })?;
            println!("Agency {id} registered.");
        }
        AgencyCommand::Webhook { db, id, url } => {
            let secret = db.open()?.set_webhook(&id, &url)?;
            println!(
                "Alerts for {id} will be posted to {url}, signed in the x-safeguard-signature header."
            );
            println!("Signing secret (shown once): {secret}");
        }
        AgencyCommand::List { db } => {
            for a in db.open()?.agencies()? {
                println!("{:<32} {:<16} {}", a.id, a.kind.as_str(), a.name);
            }
        }
    }
    Ok(())
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            db,
            id,
            agency,
            name,
            roles,
        } => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("failed to read the password")?;
            let given = line.trim_end_matches(['\r', '\n']).to_owned();
            let password = if given.is_empty() {
                safeguard_store::accounts::new_token()[..24].to_owned()
            } else {
                given.clone()
            };
            // Published in the README: a real account must never have it.
            anyhow::ensure!(
                password != crate::demo::DEMO_PASSWORD,
                "password: the demo password is published; choose another"
            );
            db.open()?
                .add_user(&id, &agency, &name, &roles, &password)?;
            println!("User {id} added to {agency} as {}.", roles_text(&roles));
            if given.is_empty() {
                println!("Password (shown once): {password}");
            }
        }
        UserCommand::List { db } => {
            for u in db.open()?.users()? {
                let state = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<48} {:<32} {:<9} {}",
                    u.id,
                    u.agency,
                    state,
                    roles_text(&u.roles)
                );
            }
        }
        UserCommand::Disable { db, id, enable } => {
            db.open()?.set_user_disabled(&id, !enable)?;
            println!(
                "User {id} {}.",
                if enable {
                    "enabled"
                } else {
                    "disabled; their sessions have ended"
                }
            );
        }
        UserCommand::Roles { db, id, roles } => {
            db.open()?.set_user_roles(&id, &roles)?;
            println!("User {id} now has roles {}.", roles_text(&roles));
        }
    }
    Ok(())
}

pub fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Add {
            db,
            name,
            agency,
            days,
        } => {
            let token = db.open()?.add_api_token_for(&name, &agency, days)?;
            println!("Token {name} for {agency}, for {days} days (shown once): {token}");
        }
        TokenCommand::Rotate { db, name, days } => {
            let token = db.open()?.rotate_api_token(&name, days)?;
            println!(
                "Token {name} rotated: the new one lasts {days} days (shown once): {token}\nThe old one stops working in a day."
            );
        }
        TokenCommand::Revoke { db, name } => {
            db.open()?.revoke_api_token(&name)?;
            println!("Token {name} revoked.");
        }
    }
    Ok(())
}
