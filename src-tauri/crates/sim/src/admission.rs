//! Who may use which app where: the checks a strict simulator makes, as
//! Entra does, before it signs anyone in or redeems anything.
//!
//! - an unknown client id: AADSTS700016 (a lenient simulator treats it as
//!   registered with [`AppRegistration::lenient`]);
//! - a tenant that does not exist: 90002;
//! - a single-tenant app on `/common` or `/organizations`: 50194; in another
//!   tenant: 700016;
//! - a personal-accounts-only app anywhere but `/consumers`: 9002331; a work-only
//!   app on `/consumers`: `unauthorized_client`, as the personal-account
//!   service answers it;
//! - an account the app or the endpoint does not accept: 50020 (or a note on
//!   the sign-in page, when the endpoint takes only the other kind);
//! - scopes of two resources in one request: 28000.

use crate::failure::Failure;
use crate::registry::{AppRegistration, Audience};
use crate::state::World;
use crate::tenant::{self, Segment};

/// 700016: the app is not registered where the request went.
pub fn unknown_app(client_id: &str, tenant: &str) -> Failure {
    Failure::with_text(
        700016,
        format!(
            "No application with the id '{client_id}' is registered in the directory '{tenant}'. The client id may be wrong, the app may have been deleted, or the request went to the wrong tenant."
        ),
    )
}

/// 90002: the tenant a request names does not exist.
pub fn unknown_tenant(name: &str) -> Failure {
    Failure::with_text(
        90002,
        format!(
            "There is no tenant '{name}' here. Check the tenant id or domain in the authority, and the cloud."
        ),
    )
}

/// The app for `client_id` as the request at `segment` may use it.
pub fn app_at(
    world: &World,
    segment: &Segment,
    client_id: &str,
) -> Result<AppRegistration, Failure> {
    if let Some(tenant) = segment.tenant()
        && !world.knows_tenant(tenant)
    {
        return Err(unknown_tenant(tenant));
    }
    let where_ = segment.tenant().unwrap_or("common").to_owned();
    let app = world
        .app(client_id)
        .ok_or_else(|| unknown_app(client_id, &where_))?;
    if segment.is_b2c() {
        return Ok(app);
    }
    let home = tenant::resolve(&app.home_tenant);
    match (segment, app.sign_in_audience) {
        (Segment::Common | Segment::Organizations, Audience::Single) => Err(Failure::with_text(
            50194,
            format!(
                "The application '{client_id}' is not configured as a multi-tenant application, so the /common and /organizations endpoints cannot be used for it. Sign in through the app's own tenant ('{home}'), or make the app multi-tenant."
            ),
        )),
        (Segment::Tenant(t), Audience::Single) if *t != home => Err(unknown_app(client_id, t)),
        (Segment::Common | Segment::Organizations | Segment::Tenant(_), Audience::Personal) => {
            Err(Failure::with_text(
                9002331,
                format!(
                    "The application '{client_id}' accepts personal Microsoft accounts only, so requests for it must go to the /consumers endpoint."
                ),
            ))
        }
        (Segment::Consumers, audience) if !audience.personal() => {
            let mut failure = Failure::with_text(
                700016,
                format!(
                    "The client '{client_id}' does not exist for personal Microsoft accounts or is not enabled for them. Register the app for personal accounts, or sign in through a work or school endpoint."
                ),
            );
            failure.error = "unauthorized_client".to_owned();
            Err(failure)
        }
        _ => Ok(app),
    }
}

/// Whether `upn` may sign in to `app` at `segment`. `Ok(None)`: yes.
/// `Ok(Some(note))`: not here, but another account might (shown on the
/// sign-in page). `Err`: the sign-in ends on an error page.
pub fn account_at(
    app: &AppRegistration,
    segment: &Segment,
    upn: &str,
) -> Result<Option<String>, Failure> {
    if segment.is_b2c() {
        return Ok(None);
    }
    let personal = tenant::is_personal(upn);
    let home = tenant::home_tenant(upn);
    match segment {
        Segment::Organizations if personal => {
            return Ok(Some(format!(
                "{upn} is a personal Microsoft account; this sign-in takes work or school accounts only."
            )));
        }
        Segment::Consumers if !personal => {
            return Ok(Some(format!(
                "{upn} is a work or school account; this sign-in takes personal Microsoft accounts only."
            )));
        }
        _ => {}
    }
    let app_home = tenant::resolve(&app.home_tenant);
    let allowed = if personal {
        app.sign_in_audience.personal()
    } else {
        app.sign_in_audience.work() && (app.sign_in_audience.other_tenants() || home == app_home)
    };
    let tenant_ok = match segment {
        Segment::Tenant(t) => *t == home,
        _ => true,
    };
    if allowed && tenant_ok {
        return Ok(None);
    }
    let (provider, tenant) = if personal {
        ("live.com", tenant::CONSUMERS_TENANT_ID.to_owned())
    } else {
        (
            "its organisation",
            segment.tenant().unwrap_or(&app_home).to_owned(),
        )
    };
    Err(Failure::with_text(
        50020,
        format!(
            "The account '{upn}' from {provider} is not a member of the tenant '{tenant}', so it cannot use the application '{}' there. Add it to the tenant as a guest, allow its kind of account in the app registration, or sign in with another account.",
            app.client_id
        ),
    ))
}

/// 28000: the scopes name more than one resource.
pub fn one_resource(scope: &str) -> Result<(), Failure> {
    let resources = reconnect_core::scope::resources(scope.split_whitespace());
    if resources.len() > 1 {
        return Err(Failure::with_text(
            28000,
            format!(
                "The scope parameter names more than one resource ({}); ask for the scopes of one resource per request.",
                resources.join(", ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::AppRegistration;

    fn world_with(app: AppRegistration) -> World {
        let mut world = World {
            strict: true,
            ..World::default()
        };
        world.apps.insert(app.client_id.clone(), app);
        world
    }

    fn code(r: Result<AppRegistration, Failure>) -> Option<u32> {
        r.err().map(|f| f.code)
    }

    #[test]
    fn the_app_must_be_registered_and_fit_the_endpoint() {
        let contoso = tenant::tenant_id("contoso");
        let mut single = AppRegistration::desktop("single");
        single.sign_in_audience = Audience::Single;
        let world = world_with(single);
        let at = |s: Segment, id: &str| code(app_at(&world, &s, id));
        assert_eq!(at(Segment::Common, "nobody"), Some(700016));
        assert_eq!(at(Segment::Common, "single"), Some(50194));
        assert_eq!(at(Segment::Organizations, "single"), Some(50194));
        assert_eq!(at(Segment::Tenant(contoso), "single"), None);
        let fabrikam = tenant::tenant_id("fabrikam");
        assert_eq!(at(Segment::Tenant(fabrikam), "single"), Some(90002));
        let lenient = World::default();
        assert_eq!(code(app_at(&lenient, &Segment::Common, "anyone")), None);
    }

    #[test]
    fn personal_accounts_need_an_app_and_endpoint_that_take_them() {
        let work_only = AppRegistration::desktop("w");
        assert!(account_at(&work_only, &Segment::Common, "alice@contoso.test").is_ok());
        let refused = account_at(&work_only, &Segment::Common, "dana@outlook.com").unwrap_err();
        assert_eq!(refused.code, 50020);
        let world = world_with(work_only);
        let consumers = app_at(&world, &Segment::Consumers, "w").unwrap_err();
        assert_eq!(
            (consumers.code, consumers.error.as_str()),
            (700016, "unauthorized_client")
        );

        let mut personal = AppRegistration::desktop("p");
        personal.sign_in_audience = Audience::Personal;
        let world = world_with(personal.clone());
        assert_eq!(code(app_at(&world, &Segment::Common, "p")), Some(9002331));
        assert_eq!(code(app_at(&world, &Segment::Consumers, "p")), None);
        assert_eq!(
            account_at(&personal, &Segment::Consumers, "dana@outlook.com"),
            Ok(None)
        );
        assert!(matches!(
            account_at(&personal, &Segment::Consumers, "alice@contoso.test"),
            Ok(Some(_))
        ));
    }

    #[test]
    fn a_tenant_endpoint_takes_its_own_members_only() {
        let app = AppRegistration::desktop("m");
        let contoso = Segment::Tenant(tenant::tenant_id("contoso"));
        assert_eq!(account_at(&app, &contoso, "alice@contoso.test"), Ok(None));
        let guest = account_at(&app, &contoso, "carol@fabrikam.test").unwrap_err();
        assert_eq!(guest.code, 50020);
        assert!(matches!(
            account_at(&app, &Segment::Organizations, "dana@outlook.com"),
            Ok(Some(_))
        ));
    }

    #[test]
    fn one_resource_per_request() {
        assert!(
            one_resource("openid offline_access https://graph.microsoft.com/User.Read").is_ok()
        );
        assert!(one_resource("User.Read Mail.Read").is_ok());
        let graph_twice =
            "https://graph.microsoft.com/User.Read 00000003-0000-0000-c000-000000000000/Mail.Read";
        assert!(
            one_resource(graph_twice).is_ok(),
            "Graph's two names are one resource"
        );
        let two = one_resource("https://graph.microsoft.com/User.Read api://other/x").unwrap_err();
        assert_eq!(two.code, 28000);
    }
}
