-- Back to the shape Meta sends, as far as Parley kept it.

-- A WhatsApp message's location goes back to `extra`.
UPDATE messages m SET
    extra = extra || jsonb_build_object('location', jsonb_strip_nulls(jsonb_build_object(
      'name', attachments #>> '{0,title}',
      'latitude', attachments #> '{0,coordinates,lat}',
      'longitude', attachments #> '{0,coordinates,long}'))),
    attachments = '[]'::jsonb
  FROM channels c
 WHERE c.id = m.channel_id AND c.platform = 'whatsapp' AND m.kind = 'location'
   AND attachments #>> '{0,kind}' = 'location';

UPDATE messages m SET attachments = converted.list
  FROM (
    SELECT id, COALESCE(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'type', a ->> 'kind',
             'url', CASE WHEN a ? 'media_id' THEN NULL ELSE a ->> 'url' END,
             'payload', CASE WHEN a ? 'url' OR a ? 'title' OR a ? 'coordinates' THEN
               jsonb_build_object('url', a ->> 'url', 'title', a ->> 'title', 'coordinates', a -> 'coordinates') END,
             'whatsapp_media', CASE WHEN a ? 'media_id' THEN
               jsonb_build_object('id', a ->> 'media_id', 'filename', a ->> 'filename', 'mime_type', a ->> 'mime_type') END,
             'filename', a ->> 'filename',
             'outbound_media', a ->> 'outbound_media',
             'stored', a -> 'stored')) ORDER BY n), '[]'::jsonb) AS list
      FROM messages, jsonb_array_elements(attachments) WITH ORDINALITY AS e(a, n)
     WHERE jsonb_typeof(attachments) = 'array' AND jsonb_typeof(a) = 'object'
     GROUP BY id
  ) AS converted
 WHERE m.id = converted.id;

UPDATE messages SET referral = jsonb_strip_nulls(jsonb_build_object(
    'source', referral ->> 'source',
    'type', referral ->> 'kind',
    'ref', referral ->> 'reference',
    'ad_id', referral ->> 'ad_id',
    'ads_context_data', CASE WHEN referral ? 'campaign' THEN
      jsonb_build_object('ad_title', referral ->> 'campaign') END,
    'source_url', referral ->> 'link'))
 WHERE referral IS NOT NULL;
