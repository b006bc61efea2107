-- Attachments and referrals are stored in Parley's own typed shape (models::attachments), built
-- once from Meta's payloads at write time; existing rows are converted here, so no reader needs
-- to understand Meta's JSON.

CREATE OR REPLACE FUNCTION pg_temp.meta_number(v jsonb) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::double precision
    WHEN jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^\s*-?[0-9]+(\.[0-9]+)?\s*$'
      THEN trim(v #>> '{}')::double precision
  END
$$;

UPDATE messages m SET attachments = converted.list
  FROM (
    SELECT id, COALESCE(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
             'kind', COALESCE(a ->> 'type', 'file'),
             'url', COALESCE(a #>> '{payload,url}', a ->> 'url'),
             'media_id', a #>> '{whatsapp_media,id}',
             'filename', COALESCE(a ->> 'filename', a #>> '{whatsapp_media,filename}'),
             'title', COALESCE(a #>> '{payload,title}', a ->> 'title'),
             'mime_type', a #>> '{whatsapp_media,mime_type}',
             'coordinates', CASE
               WHEN pg_temp.meta_number(a #> '{payload,coordinates,lat}') BETWEEN -90 AND 90
                AND pg_temp.meta_number(a #> '{payload,coordinates,long}') BETWEEN -180 AND 180
               THEN jsonb_build_object(
                 'lat', pg_temp.meta_number(a #> '{payload,coordinates,lat}'),
                 'long', pg_temp.meta_number(a #> '{payload,coordinates,long}'))
             END,
             'outbound_media', a ->> 'outbound_media',
             'stored', a -> 'stored')) ORDER BY n), '[]'::jsonb) AS list
      FROM messages, jsonb_array_elements(attachments) WITH ORDINALITY AS e(a, n)
     WHERE jsonb_typeof(attachments) = 'array' AND jsonb_typeof(a) = 'object'
     GROUP BY id
  ) AS converted
 WHERE m.id = converted.id;

-- WhatsApp locations were kept in `extra`; they are attachments like Messenger's.
UPDATE messages SET
    attachments = attachments || jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
      'kind', 'location',
      'title', COALESCE(extra #>> '{location,name}', extra #>> '{location,address}'),
      'coordinates', CASE
        WHEN pg_temp.meta_number(extra #> '{location,latitude}') BETWEEN -90 AND 90
         AND pg_temp.meta_number(extra #> '{location,longitude}') BETWEEN -180 AND 180
        THEN jsonb_build_object(
          'lat', pg_temp.meta_number(extra #> '{location,latitude}'),
          'long', pg_temp.meta_number(extra #> '{location,longitude}'))
      END))),
    extra = extra - 'location'
 WHERE jsonb_typeof(extra -> 'location') = 'object' AND jsonb_typeof(attachments) = 'array';

UPDATE messages SET referral = CASE
    WHEN COALESCE(referral ->> 'source', referral ->> 'source_type') IS NULL THEN NULL
    ELSE jsonb_strip_nulls(jsonb_build_object(
      'source', COALESCE(referral ->> 'source', referral ->> 'source_type'),
      'kind', referral ->> 'type',
      'reference', referral ->> 'ref',
      'ad_id', COALESCE(referral ->> 'ad_id',
                        CASE WHEN referral ->> 'source_type' = 'ad' THEN referral ->> 'source_id' END),
      'campaign', COALESCE(referral #>> '{ads_context_data,ad_title}', referral ->> 'headline'),
      'link', COALESCE(referral ->> 'source_url', referral ->> 'referer_uri')))
  END
 WHERE referral IS NOT NULL AND jsonb_typeof(referral) = 'object';

DROP FUNCTION pg_temp.meta_number(jsonb);
