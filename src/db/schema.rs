// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

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
        subscribed_fields -> Array<Nullable<Text>>,
        connected_by -> Nullable<Int8>,
        connected_at -> Timestamptz,
        last_verified_at -> Nullable<Timestamptz>,
        disconnected_at -> Nullable<Timestamptz>,
        disconnected_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        login -> Text,
        token_expires_at -> Nullable<Timestamptz>,
        token_refreshed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    comment_actions (id) {
        id -> Int8,
        tenant_id -> Int8,
        comment_id -> Int8,
        action -> Text,
        message -> Nullable<Text>,
        user_id -> Nullable<Int8>,
        state -> Text,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        rule_id -> Nullable<Int8>,
        bulk_run_id -> Nullable<Int8>,
    }
}

diesel::table! {
    comment_bulk_runs (id) {
        id -> Int8,
        tenant_id -> Int8,
        user_id -> Nullable<Int8>,
        action -> Text,
        target -> Jsonb,
        state -> Text,
        cursor_at -> Nullable<Timestamptz>,
        cursor_id -> Nullable<Int8>,
        total -> Int4,
        taken -> Int4,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    comment_posts (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        platform_post_id -> Text,
        caption -> Nullable<Text>,
        media_type -> Nullable<Text>,
        thumbnail_url -> Nullable<Text>,
        permalink -> Nullable<Text>,
        posted_at -> Nullable<Timestamptz>,
        fetched_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        insights_note -> Nullable<Text>,
        insights_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    comment_syncs (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        state -> Text,
        since -> Timestamptz,
        page_cursor -> Nullable<Text>,
        page_done -> Int4,
        posts_done -> Int4,
        posts_listed -> Int4,
        listed_all -> Bool,
        comments_found -> Int4,
        error -> Nullable<Text>,
        requested_by -> Nullable<Int8>,
        started_at -> Timestamptz,
        updated_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    comments (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        platform_comment_id -> Text,
        post_id -> Nullable<Text>,
        parent_comment_id -> Nullable<Text>,
        author_id -> Nullable<Text>,
        author_name -> Nullable<Text>,
        text -> Nullable<Text>,
        commented_at -> Timestamptz,
        hidden -> Bool,
        deleted_at -> Nullable<Timestamptz>,
        edited_at -> Nullable<Timestamptz>,
        from_business -> Bool,
        extra -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        reviewed_at -> Nullable<Timestamptz>,
        reviewed_by -> Nullable<Int8>,
        rules_checked_at -> Nullable<Timestamptz>,
        rule_id -> Nullable<Int8>,
        replied_publicly_at -> Nullable<Timestamptz>,
        replied_privately_at -> Nullable<Timestamptz>,
        conversation_id -> Nullable<Int8>,
        liked_at -> Nullable<Timestamptz>,
        search -> Nullable<Tsvector>,
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
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    contacts (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        platform_user_id -> Text,
        name -> Nullable<Text>,
        username -> Nullable<Text>,
        picture_url -> Nullable<Text>,
        profile_fetched_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        search -> Nullable<Tsvector>,
        picture_file -> Nullable<Text>,
        picture_content_type -> Nullable<Text>,
    }
}

diesel::table! {
    conversation_episodes (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        conversation_id -> Int8,
        opened_at -> Timestamptz,
        first_response_at -> Nullable<Timestamptz>,
        first_responder_id -> Nullable<Int8>,
        resolved_at -> Nullable<Timestamptz>,
        resolved_by -> Nullable<Int8>,
    }
}

diesel::table! {
    conversation_labels (conversation_id, label_id) {
        tenant_id -> Int8,
        conversation_id -> Int8,
        label_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    conversation_notes (id) {
        id -> Int8,
        tenant_id -> Int8,
        conversation_id -> Int8,
        author_id -> Nullable<Int8>,
        body -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    conversations (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        contact_id -> Int8,
        status -> Text,
        assignee_id -> Nullable<Int8>,
        snoozed_until -> Nullable<Timestamptz>,
        last_message_at -> Nullable<Timestamptz>,
        last_inbound_at -> Nullable<Timestamptz>,
        last_message_preview -> Nullable<Text>,
        unread_count -> Int4,
        delivered_watermark -> Nullable<Timestamptz>,
        read_watermark -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        history_limited -> Bool,
    }
}

diesel::table! {
    history_imports (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        state -> Text,
        since -> Timestamptz,
        max_conversations -> Int4,
        page_cursor -> Nullable<Text>,
        page_done -> Int4,
        conversations_done -> Int4,
        messages_done -> Int4,
        conversations_skipped -> Int4,
        error -> Nullable<Text>,
        started_at -> Timestamptz,
        updated_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    insight_backfills (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        state -> Text,
        from_day -> Date,
        next_day -> Date,
        to_day -> Date,
        windows_done -> Int4,
        windows_total -> Int4,
        error -> Nullable<Text>,
        started_at -> Timestamptz,
        updated_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    insight_breakdowns (channel_id, object_id, metric, dimension, key) {
        tenant_id -> Int8,
        channel_id -> Int8,
        object_id -> Text,
        metric -> Text,
        dimension -> Text,
        key -> Text,
        value -> Int8,
        fetched_at -> Timestamptz,
    }
}

diesel::table! {
    insight_points (channel_id, object_id, metric, day) {
        tenant_id -> Int8,
        channel_id -> Int8,
        object_id -> Text,
        metric -> Text,
        day -> Date,
        value -> Int8,
        fetched_at -> Timestamptz,
    }
}

diesel::table! {
    insight_refusals (channel_id, metric) {
        tenant_id -> Int8,
        channel_id -> Int8,
        metric -> Text,
        reason -> Text,
        noticed_at -> Timestamptz,
    }
}

diesel::table! {
    insight_totals (tenant_id, metric, day) {
        tenant_id -> Int8,
        metric -> Text,
        day -> Date,
        value -> Int8,
        updated_at -> Timestamptz,
    }
}

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

diesel::table! {
    labels (id) {
        id -> Int8,
        tenant_id -> Int8,
        name -> Text,
        created_at -> Timestamptz,
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

diesel::table! {
    message_reactions (id) {
        id -> Int8,
        tenant_id -> Int8,
        message_id -> Int8,
        reactor -> Text,
        emoji -> Text,
        reaction -> Nullable<Text>,
        reacted_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    message_templates (id) {
        id -> Int8,
        tenant_id -> Int8,
        waba_id -> Text,
        platform_template_id -> Nullable<Text>,
        name -> Text,
        language -> Text,
        category -> Nullable<Text>,
        status -> Text,
        status_reason -> Nullable<Text>,
        quality_score -> Nullable<Text>,
        status_updated_at -> Timestamptz,
        created_at -> Timestamptz,
        parameter_format -> Text,
        content -> Jsonb,
        created_by -> Nullable<Int8>,
        updated_at -> Timestamptz,
        status_at -> Nullable<Timestamptz>,
        submitted_at -> Nullable<Timestamptz>,
        deleted_at -> Nullable<Timestamptz>,
        polled_at -> Nullable<Timestamptz>,
        poll_after -> Nullable<Timestamptz>,
        search -> Nullable<Tsvector>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    messages (id) {
        id -> Int8,
        tenant_id -> Int8,
        conversation_id -> Int8,
        channel_id -> Int8,
        direction -> Text,
        platform_message_id -> Nullable<Text>,
        sent_at -> Timestamptz,
        kind -> Text,
        text -> Nullable<Text>,
        attachments -> Jsonb,
        reply_to_platform_id -> Nullable<Text>,
        referral -> Nullable<Jsonb>,
        extra -> Jsonb,
        is_echo -> Bool,
        sender_user_id -> Nullable<Int8>,
        status -> Text,
        status_at -> Nullable<Timestamptz>,
        error -> Nullable<Jsonb>,
        deleted_at -> Nullable<Timestamptz>,
        edited_at -> Nullable<Timestamptz>,
        edit_count -> Int4,
        created_at -> Timestamptz,
        search -> Nullable<Tsvector>,
        send_started_at -> Nullable<Timestamptz>,
        send_attempts -> Int4,
        imported -> Bool,
    }
}

diesel::table! {
    messaging_agent_days (tenant_id, day, agent_id) {
        tenant_id -> Int8,
        agent_id -> Int8,
        day -> Date,
        outbound -> Int4,
        human_agent -> Int4,
    }
}

diesel::table! {
    messaging_channel_days (tenant_id, day, channel_id) {
        tenant_id -> Int8,
        channel_id -> Int8,
        day -> Date,
        inbound -> Int4,
        outbound -> Int4,
        human_agent -> Int4,
        template -> Int4,
    }
}

diesel::table! {
    messaging_hour_deltas (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        hour -> Timestamptz,
        agent_id -> Int8,
        inbound -> Int4,
        outbound -> Int4,
        human_agent -> Int4,
        template -> Int4,
    }
}

diesel::table! {
    messaging_hours (channel_id, hour, agent_id) {
        tenant_id -> Int8,
        channel_id -> Int8,
        hour -> Timestamptz,
        agent_id -> Int8,
        inbound -> Int4,
        outbound -> Int4,
        human_agent -> Int4,
        template -> Int4,
    }
}

diesel::table! {
    messaging_tenant_hours (tenant_id, hour) {
        tenant_id -> Int8,
        hour -> Timestamptz,
        inbound -> Int4,
        outbound -> Int4,
    }
}

diesel::table! {
    moderation_rules (id) {
        id -> Int8,
        tenant_id -> Int8,
        name -> Text,
        position -> Int4,
        enabled -> Bool,
        match_all -> Bool,
        conditions -> Jsonb,
        action -> Text,
        saved_reply_id -> Nullable<Int8>,
        created_by -> Nullable<Int8>,
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
    outbound_media (id) {
        id -> Int8,
        tenant_id -> Int8,
        token -> Text,
        file -> Text,
        filename -> Text,
        content_type -> Text,
        size_bytes -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    pending_message_events (id) {
        id -> Int8,
        tenant_id -> Int8,
        channel_id -> Int8,
        platform_message_id -> Text,
        event -> Jsonb,
        occurred_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    periodic_runs (name, period_start) {
        name -> Text,
        period_start -> Timestamptz,
        enqueued_at -> Timestamptz,
    }
}

diesel::table! {
    post_columns (metric, column_key) {
        column_key -> Text,
        metric -> Text,
    }
}

diesel::table! {
    post_insights (channel_id, post_id, metric) {
        tenant_id -> Int8,
        channel_id -> Int8,
        post_id -> Text,
        metric -> Text,
        value -> Int8,
        fetched_at -> Timestamptz,
    }
}

diesel::table! {
    post_ranks (post_ref, column_key) {
        tenant_id -> Int8,
        channel_id -> Int8,
        post_ref -> Int8,
        column_key -> Text,
        value -> Int8,
        posted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    saved_replies (id) {
        id -> Int8,
        tenant_id -> Int8,
        shortcut -> Text,
        body -> Text,
        created_by -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    send_budgets (key) {
        key -> Text,
        next_at -> Timestamptz,
    }
}

diesel::table! {
    template_events (id) {
        id -> Int8,
        tenant_id -> Int8,
        template_id -> Int8,
        at -> Timestamptz,
        actor_id -> Nullable<Int8>,
        source -> Text,
        kind -> Text,
        from_value -> Nullable<Text>,
        to_value -> Nullable<Text>,
        comment -> Nullable<Text>,
    }
}

diesel::table! {
    tenants (id) {
        id -> Int8,
        name -> Text,
        created_at -> Timestamptz,
        time_zone -> Text,
    }
}

diesel::table! {
    user_sessions (id) {
        id -> Int8,
        tenant_id -> Int8,
        user_id -> Int8,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
        end_reason -> Nullable<Text>,
        user_agent -> Nullable<Text>,
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
    webhook_events (id) {
        id -> Int8,
        received_at -> Timestamptz,
        object -> Nullable<Text>,
        body -> Bytea,
        signature_ok -> Bool,
        state -> Text,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        locked_until -> Nullable<Timestamptz>,
        locked_by -> Nullable<Text>,
        processed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_items (id) {
        id -> Int8,
        event_id -> Int8,
        position -> Int4,
        object -> Text,
        account_id -> Text,
        tenant_id -> Nullable<Int8>,
        channel_id -> Nullable<Int8>,
        kind -> Text,
        body -> Nullable<Jsonb>,
        state -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        locked_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        occurred_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        processed_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(channels -> tenants (tenant_id));
diesel::joinable!(channels -> users (connected_by));
diesel::joinable!(comment_actions -> comment_bulk_runs (bulk_run_id));
diesel::joinable!(comment_actions -> comments (comment_id));
diesel::joinable!(comment_actions -> moderation_rules (rule_id));
diesel::joinable!(comment_actions -> tenants (tenant_id));
diesel::joinable!(comment_actions -> users (user_id));
diesel::joinable!(comment_bulk_runs -> tenants (tenant_id));
diesel::joinable!(comment_bulk_runs -> users (user_id));
diesel::joinable!(comment_posts -> channels (channel_id));
diesel::joinable!(comment_posts -> tenants (tenant_id));
diesel::joinable!(comment_syncs -> channels (channel_id));
diesel::joinable!(comment_syncs -> tenants (tenant_id));
diesel::joinable!(comment_syncs -> users (requested_by));
diesel::joinable!(comments -> channels (channel_id));
diesel::joinable!(comments -> conversations (conversation_id));
diesel::joinable!(comments -> moderation_rules (rule_id));
diesel::joinable!(comments -> tenants (tenant_id));
diesel::joinable!(comments -> users (reviewed_by));
diesel::joinable!(connect_sessions -> tenants (tenant_id));
diesel::joinable!(connect_sessions -> users (user_id));
diesel::joinable!(contacts -> channels (channel_id));
diesel::joinable!(contacts -> tenants (tenant_id));
diesel::joinable!(conversation_episodes -> channels (channel_id));
diesel::joinable!(conversation_episodes -> conversations (conversation_id));
diesel::joinable!(conversation_episodes -> tenants (tenant_id));
diesel::joinable!(conversation_labels -> conversations (conversation_id));
diesel::joinable!(conversation_labels -> labels (label_id));
diesel::joinable!(conversation_labels -> tenants (tenant_id));
diesel::joinable!(conversation_notes -> conversations (conversation_id));
diesel::joinable!(conversation_notes -> tenants (tenant_id));
diesel::joinable!(conversation_notes -> users (author_id));
diesel::joinable!(conversations -> channels (channel_id));
diesel::joinable!(conversations -> contacts (contact_id));
diesel::joinable!(conversations -> tenants (tenant_id));
diesel::joinable!(conversations -> users (assignee_id));
diesel::joinable!(history_imports -> tenants (tenant_id));
diesel::joinable!(insight_backfills -> channels (channel_id));
diesel::joinable!(insight_backfills -> tenants (tenant_id));
diesel::joinable!(insight_breakdowns -> channels (channel_id));
diesel::joinable!(insight_breakdowns -> tenants (tenant_id));
diesel::joinable!(insight_points -> channels (channel_id));
diesel::joinable!(insight_points -> tenants (tenant_id));
diesel::joinable!(insight_refusals -> channels (channel_id));
diesel::joinable!(insight_refusals -> tenants (tenant_id));
diesel::joinable!(insight_totals -> tenants (tenant_id));
diesel::joinable!(jobs -> tenants (tenant_id));
diesel::joinable!(labels -> tenants (tenant_id));
diesel::joinable!(message_reactions -> messages (message_id));
diesel::joinable!(message_reactions -> tenants (tenant_id));
diesel::joinable!(message_templates -> tenants (tenant_id));
diesel::joinable!(message_templates -> users (created_by));
diesel::joinable!(messages -> users (sender_user_id));
diesel::joinable!(messaging_agent_days -> tenants (tenant_id));
diesel::joinable!(messaging_channel_days -> channels (channel_id));
diesel::joinable!(messaging_channel_days -> tenants (tenant_id));
diesel::joinable!(messaging_hour_deltas -> channels (channel_id));
diesel::joinable!(messaging_hour_deltas -> tenants (tenant_id));
diesel::joinable!(messaging_hours -> channels (channel_id));
diesel::joinable!(messaging_hours -> tenants (tenant_id));
diesel::joinable!(messaging_tenant_hours -> tenants (tenant_id));
diesel::joinable!(moderation_rules -> saved_replies (saved_reply_id));
diesel::joinable!(moderation_rules -> tenants (tenant_id));
diesel::joinable!(moderation_rules -> users (created_by));
diesel::joinable!(oauth_states -> tenants (tenant_id));
diesel::joinable!(oauth_states -> users (user_id));
diesel::joinable!(outbound_media -> tenants (tenant_id));
diesel::joinable!(pending_message_events -> channels (channel_id));
diesel::joinable!(pending_message_events -> tenants (tenant_id));
diesel::joinable!(post_insights -> channels (channel_id));
diesel::joinable!(post_insights -> tenants (tenant_id));
diesel::joinable!(post_ranks -> channels (channel_id));
diesel::joinable!(post_ranks -> comment_posts (post_ref));
diesel::joinable!(post_ranks -> tenants (tenant_id));
diesel::joinable!(saved_replies -> tenants (tenant_id));
diesel::joinable!(saved_replies -> users (created_by));
diesel::joinable!(template_events -> message_templates (template_id));
diesel::joinable!(template_events -> tenants (tenant_id));
diesel::joinable!(template_events -> users (actor_id));
diesel::joinable!(user_sessions -> tenants (tenant_id));
diesel::joinable!(user_sessions -> users (user_id));
diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(webhook_items -> webhook_events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    channels,
    comment_actions,
    comment_bulk_runs,
    comment_posts,
    comment_syncs,
    comments,
    connect_sessions,
    contacts,
    conversation_episodes,
    conversation_labels,
    conversation_notes,
    conversations,
    history_imports,
    insight_backfills,
    insight_breakdowns,
    insight_points,
    insight_refusals,
    insight_totals,
    jobs,
    labels,
    login_throttle,
    message_reactions,
    message_templates,
    messages,
    messaging_agent_days,
    messaging_channel_days,
    messaging_hour_deltas,
    messaging_hours,
    messaging_tenant_hours,
    moderation_rules,
    oauth_states,
    outbound_media,
    pending_message_events,
    periodic_runs,
    post_columns,
    post_insights,
    post_ranks,
    saved_replies,
    send_budgets,
    template_events,
    tenants,
    user_sessions,
    users,
    webhook_events,
    webhook_items,
);
