//! Table definitions for diesel (kept by hand, in step with migrations/).

diesel::table! {
    tenants (id) {
        id -> Int8,
        name -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        tenant_id -> Int8,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Int4,
        window_started -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(tenants, users);

diesel::table! {
    jobs (id) {
        id -> Int8,
        tenant_id -> Nullable<Int8>,
        kind -> Text,
        payload -> Jsonb,
        state -> Text,
        run_at -> Timestamptz,
        attempts -> Int4,
        max_attempts -> Int4,
        locked_until -> Nullable<Timestamptz>,
        locked_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(jobs -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(jobs, tenants);

diesel::table! {
    channels (id) {
        id -> Int8,
        tenant_id -> Int8,
        platform -> Text,
        platform_id -> Text,
        name -> Text,
        username -> Nullable<Text>,
        picture_url -> Nullable<Text>,
        page_id -> Nullable<Text>,
        waba_id -> Nullable<Text>,
        display_phone_number -> Nullable<Text>,
        token_ciphertext -> Nullable<Bytea>,
        token_key_id -> Nullable<Text>,
        status -> Text,
        needs_reconnect -> Bool,
        subscribed_fields -> Array<Text>,
        connected_by -> Nullable<Int8>,
        connected_at -> Timestamptz,
        last_verified_at -> Nullable<Timestamptz>,
        disconnected_at -> Nullable<Timestamptz>,
        disconnected_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    oauth_states (state_hash) {
        state_hash -> Text,
        tenant_id -> Int8,
        user_id -> Int8,
        purpose -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    connect_sessions (id) {
        id -> Text,
        tenant_id -> Int8,
        user_id -> Int8,
        purpose -> Text,
        payload -> Bytea,
        payload_key_id -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    periodic_runs (name, period_start) {
        name -> Text,
        period_start -> Timestamptz,
        enqueued_at -> Timestamptz,
    }
}

diesel::joinable!(channels -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(channels, tenants);
