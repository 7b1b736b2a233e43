import { z } from 'zod';
import { ALERT_LEVELS, ALERT_TYPES, ORG_LEVELS } from '../api/contract.ts';

/** MQTT 3.1.1 §4.7: wildcards occupy a whole level; # only as the last level. */
function validTopicFilter(t: string): boolean {
  if (t.includes('\u0000')) return false;
  const levels = t.split('/');
  return levels.every(
    (l, i) => (!l.includes('#') || (l === '#' && i === levels.length - 1)) && (!l.includes('+') || l === '+'),
  );
}

/** One entry per four-colour alert level. */
function levelRecord<T extends z.ZodType>(t: T) {
  return { blue: t, yellow: t, orange: t, red: t };
}

const deadlinePair = z
  .object({ sign: z.number().int().min(1).max(525_600), handle: z.number().int().min(1).max(525_600) })
  .strict();

const networkId = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{1,31}$/, 'lowercase id of 2-32 characters: letters, digits, _ or -');

const basemap = z.discriminatedUnion('type', [
  z.object({ type: z.literal('generated') }).strict(),
  z
    .object({
      type: z.literal('raster'),
      tiles: z.array(z.string().min(1)).min(1),
      tileSize: z.number().int().positive().default(256),
      maxzoom: z.number().int().min(0).max(24).default(18),
      attribution: z.string().default(''),
    })
    .strict(),
  z.object({ type: z.literal('style'), url: z.string().min(1) }).strict(),
  // An offline map package exported from the county's GIS, served by the platform itself (issue 17).
  z
    .object({
      type: z.enum(['mbtiles', 'pmtiles']),
      /** The package file (raster tiles: png, jpg or webp). */
      path: z.string().min(1),
      attribution: z.string().default(''),
    })
    .strict(),
]);

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a time of day like 01:30 (24:00 ends the day)');
const fraction = z.number().min(0).max(1);
/** Picture diagnosis thresholds (streams/src/diagnosis/judge.ts says what each means). */
const qualityThresholds = z
  .object({
    blackP90: z.number().min(0).max(255),
    darkP50: z.number().min(0).max(255),
    overexposedP50: z.number().min(0).max(255),
    overexposedShare: fraction,
    frozenMotion: fraction,
    blur: fraction,
    noise: z.number().min(0).max(255),
    castFactor: z.number().min(0).max(100),
    castDistance: z.number().min(0).max(255),
    occlusion: fraction,
    sceneChange: fraction,
  })
  .strict();
const qualitySchema = z
  .object({
    /** Scheduled sweeps in `windows`; on-demand sweeps (a township, a network) run either way. */
    enabled: z.boolean(),
    /** Local-time windows (dispatch.utcOffsetMinutes) of the daily sweep; one left unfinished goes on in the next. */
    windows: z.array(z.object({ from: hhmm, to: hhmm }).strict()).max(8),
    /** First look for a due sweep this long after start (the demo's simulator encodes its clips first). */
    startDelaySeconds: z.number().int().min(0).max(86_400),
    /** Cameras diagnosed at once (each holds one short ffmpeg for ~2–4 s). */
    concurrency: z.number().int().min(1).max(64),
    /** Yield to live video: one slot fewer for every this many relays playing (0: never yield). */
    relaysPerSlot: z.number().int().min(0).max(1000),
    /** Give up on one camera after this long (its first keyframe can take a whole GOP). */
    timeoutMs: z.number().int().min(1000).max(120_000),
    /** Seconds of pictures measured per camera. */
    sampleSeconds: z.number().min(0.5).max(10),
    /** `nice` level of the diagnosis ffmpeg (19 lowest); null: not niced. */
    niceLevel: z.number().int().min(0).max(19).nullable(),
    /** Checks kept this many days (the daily 完好率 snapshots are kept for good). */
    historyDays: z.number().int().min(1).max(3650),
    /** Thumbnails kept this many days (a point's latest and its reference are always kept). */
    thumbnailDays: z.number().int().min(1).max(3650),
    /** Raise an alert when a point becomes occluded or moved: its level, or null for none. */
    alerts: z
      .object({ occlusion: z.enum(['blue', 'yellow']).nullable(), sceneChange: z.enum(['blue', 'yellow']).nullable() })
      .strict(),
    thresholds: qualityThresholds,
    /** Per network id: the thresholds that differ from `thresholds` (traffic cameras see moving scenes, …). */
    networkThresholds: z.record(networkId, qualityThresholds.partial().strict()),
  })
  .strict();

/**
 * The one configuration schema, checked at start-up. Every object is strict:
 * an unknown key is an error naming its path (a typo must not silently fall
 * back to a default on a production wall).
 */
export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().min(1),
        port: z.number().int().min(0).max(65535),
        trustProxy: z.boolean(),
        bodyLimitKb: z.number().int().min(1).max(10_240),
        importLimitMb: z.number().int().min(1).max(512),
      })
      .strict(),
    storage: z
      .object({
        /** `sqlite` (embedded, the default) or `postgres` (several instances on one database; issue 13). */
        driver: z.enum(['sqlite', 'postgres']),
        sqlite: z.object({ path: z.string().min(1) }).strict(),
        postgres: z
          .object({
            /** postgres://user@host:port/db; DATABASE_URL is taken when this is empty. */
            url: z.string().default(''),
            /** Connections in this instance's pool. */
            poolSize: z.number().int().min(1).max(100).default(10),
          })
          .strict()
          .default({ url: '', poolSize: 10 }),
      })
      .strict()
      .superRefine((s, ctx) => {
        if (s.driver === 'postgres' && !s.postgres.url)
          ctx.addIssue({ code: 'custom', path: ['postgres', 'url'], message: 'required when driver is postgres' });
      }),
    security: z
      .object({
        keyFile: z.string().min(1),
        sessionTtlHours: z
          .number()
          .positive()
          .max(24 * 30),
        cookieName: z.string().regex(/^[A-Za-z0-9_-]+$/),
        secureCookie: z.boolean(),
        /** How often each open socket's session is checked again (it also ends at once on logout or revocation). */
        sessionRecheckSeconds: z.number().positive().max(3600),
        loginRateLimit: z
          .object({
            windowSeconds: z.number().int().positive(),
            maxAttempts: z.number().int().positive(),
          })
          .strict(),
      })
      .strict(),
    /** Several instances on one database (issue 13): periodic passes run on the one holding their lease. */
    cluster: z
      .object({
        /** A holder that stops renewing (it died) is replaced after this long; renewal: every third of it, at most 10 s. */
        leaseTtlSeconds: z.number().min(1).max(3600),
      })
      .strict(),
    redis: z
      .object({
        /** With a URL, several processes share pushes (Redis Streams) and rate limits (cluster/rate-windows.ts). */
        url: z.string().min(1).nullable(),
        /** Prefix of every Redis key and channel this deployment uses (several centers may share one Redis). */
        keyPrefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/),
      })
      .strict(),
    extraNetworks: z.array(
      z.object({ id: networkId, name: z.string().min(1).max(64), nameEn: z.string().min(1).max(64) }).strict(),
    ),
    map: z
      .object({
        center: z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]),
        zoom: z.number().min(0).max(22),
        basemap,
      })
      .strict(),
    discovery: z
      .object({
        /** Local interface addresses whose segments may be probed by multicast. */
        multicastInterfaces: z.array(z.string().min(1)),
        maxHostsPerScan: z.number().int().min(1).max(65536),
        probeTimeoutMs: z.number().int().min(100).max(60_000),
        probeRatePerSecond: z.number().int().min(1).max(100_000),
        concurrency: z.number().int().min(1).max(1024),
        deviceTimeoutMs: z.number().int().min(100).max(60_000),
        /**
         * A device that reports its stream and snapshot addresses on another host than the one that answered
         * (NAT, port forwarding) gets them rebased to that host, the reported ones kept (issue 12).
         */
        rebaseStreamHosts: z.boolean(),
      })
      .strict(),
    health: z
      .object({
        /** Seconds between sweeps; 0 disables periodic checks. */
        intervalSeconds: z.number().int().min(0).max(86_400),
        concurrency: z.number().int().min(1).max(1024),
        timeoutMs: z.number().int().min(100).max(60_000),
        /** Wait for a real RTP video packet (all points), or only DESCRIBE. */
        frameCheck: z.boolean(),
        /** Consecutive failed checks before a point that was online is called offline (flap damping). */
        failuresBeforeOffline: z.number().int().min(1).max(10),
      })
      .strict(),
    relay: z
      .object({
        /** ffmpeg binary; null: the system's `ffmpeg`, else one shipped in an npm package. */
        ffmpegPath: z.string().min(1).nullable(),
        /** Where HLS output goes; null: /dev/shm (RAM) when present, else the temp dir. */
        hlsDir: z.string().min(1).nullable(),
        segmentSeconds: z.number().min(0.5).max(10),
        /** Segments a playlist keeps: 20–30 s lets a player held up by a busy page catch up (issue 12). */
        listSize: z.number().int().min(2).max(120),
        /** A stream nobody requested for this long stops. */
        idleTimeoutSeconds: z.number().int().min(5).max(3600),
        /** H.265 sources transcoded at once (each costs most of a core). */
        maxTranscodes: z.number().int().min(0).max(64),
        ticketTtlSeconds: z.number().int().min(30).max(86_400),
        startTimeoutMs: z.number().int().min(500).max(60_000),
        ptzPerSecond: z.number().int().min(1).max(50),
        /** Ask the camera for an IDR (ONVIF SetSynchronizationPoint) when a stream starts (issue 15). */
        keyframeOnStart: z.boolean(),
      })
      .strict(),
    ingest: z
      .object({
        /** Accept RTMP pushes (body-worn cameras, drones) into the platform's in-process RTMP server. */
        enabled: z.boolean(),
        /** Address the RTMP listener binds; 0.0.0.0 (or the video-network interface) to take pushes from devices. */
        host: z.string().min(1),
        /** RTMP port; 0 picks a free one (tests). */
        port: z.number().int().min(0).max(65535),
        /** RTMP application: devices push to rtmp://<publicHost>:<port>/<app>/cam<id>. */
        app: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ or -, at most 32'),
        /** Host named in the publish URL handed to devices; null: `host`. */
        publicHost: z.string().min(1).nullable(),
      })
      .strict(),
    demo: z
      .object({
        enabled: z.boolean(),
        seed: z.number().int(),
        townships: z.number().int().min(1).max(50),
        villagesPerTownship: z.number().int().min(1).max(50),
        cameras: z.number().int().min(0).max(200_000),
        /** Run the built-in camera simulator behind the demo's points (ONVIF, RTSP on 127.0.x.y). */
        simulator: z.boolean(),
        /** Where the simulator caches its encoded clips. */
        clipDir: z.string().min(1),
      })
      .strict(),
    log: z.object({ level: z.enum(['debug', 'info', 'warn', 'error']) }).strict(),
    /** Prometheus metrics at /metrics (issue 13). */
    metrics: z
      .object({
        enabled: z.boolean(),
        /** A bearer token Prometheus sends (from the environment: CCC_METRICS__TOKEN); null: this machine only. */
        token: z.string().min(16, 'at least 16 characters').max(512).regex(/^\S+$/, 'no spaces').nullable(),
      })
      .strict(),
    alerts: z
      .object({
        /** Repeats of one source + type at one place within this window fold into the open alert. */
        stormWindowSeconds: z.number().int().min(0).max(86_400),
        /** One place, for folding: the same camera, or (without a camera) within this distance, same org unit. */
        foldDistanceMeters: z.number().positive().max(10_000),
        /** Wrong or missing device keys one client address may send per minute before it is answered 429. */
        wrongKeyAttemptsPerMinute: z.number().int().min(1).max(10_000),
        /** Cameras within this distance of an alert are candidates for linkage. */
        linkRadiusMeters: z.number().positive().max(10_000),
        /** At most this many linked cameras travel with an alert. */
        maxLinkedCameras: z.number().int().min(0).max(64),
        /** Default per-source rate limit for new device keys. */
        defaultRatePerMinute: z.number().int().min(1).max(100_000),
        /** Largest accepted ingestion body. */
        maxBodyBytes: z.number().int().min(256).max(1_048_576),
        /**
         * Alerts published over MQTT by other systems: each message is the JSON body of
         * POST /alerts/ingest, with type and level defaulting to its topic's mapping.
         * Credentials, if any, go in the URL from the environment (CCC_ALERTS__MQTT__URL).
         */
        mqtt: z
          .object({
            url: z
              .string()
              .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'an mqtt://, mqtts://, ws:// or wss:// URL')
              .nullable(),
            topics: z
              .array(
                z
                  .object({
                    /** An MQTT topic filter; + and # wildcards allowed. */
                    topic: z
                      .string()
                      .min(1)
                      .max(256)
                      .refine(validTopicFilter, 'a topic filter: + and # take a whole level, # only last'),
                    type: z.enum(ALERT_TYPES).exclude(['camera_offline', 'manual']),
                    level: z.enum(ALERT_LEVELS),
                  })
                  .strict(),
              )
              .max(100),
          })
          .strict(),
        /** ONVIF PullPoint subscriptions on points marked for events (PUT /cameras/:id/alert-events). */
        onvifEvents: z
          .object({
            enabled: z.boolean(),
            /** At most this many points are subscribed at once (each holds a long poll open). */
            maxSubscriptions: z.number().int().min(1).max(10_000),
          })
          .strict(),
        /** A linked PTZ camera with a registered preset place this close to the alert turns to it. */
        ptzPresetLinkage: z
          .object({
            enabled: z.boolean(),
            maxDistanceMeters: z.number().positive().max(10_000),
          })
          .strict(),
      })
      .strict(),
    /** Work orders (工单): routing by level (四事分办), deadlines, supervision (督办) and escalation. */
    dispatch: z
      .object({
        /** The org level that handles an order of each alert level when it is routed automatically. */
        routing: z.object(levelRecord(z.enum(ORG_LEVELS))).strict(),
        /** Minutes to sign and to handle, by the level of the unit holding the order, then by alert level. */
        deadlines: z
          .object({
            county: z.object(levelRecord(deadlinePair)).strict(),
            township: z.object(levelRecord(deadlinePair)).strict(),
            village: z.object(levelRecord(deadlinePair)).strict(),
          })
          .strict(),
        /** An overdue order is supervised again this often while it stays overdue. */
        superviseRepeatMinutes: z.number().int().min(1).max(10_080),
        /** After this many supervisions at one unit, the order moves up a level by itself (0: never). */
        escalateAfterSupervisions: z.number().int().min(0).max(100),
        /** How often the deadline scheduler runs; 0 turns the timer off (tests drive it). */
        scanIntervalSeconds: z.number().int().min(0).max(3600),
        /** Largest attached image. */
        maxAttachmentBytes: z
          .number()
          .int()
          .min(1024)
          .max(20 * 1024 * 1024),
        maxAttachmentsPerOrder: z.number().int().min(1).max(200),
        /** Statistics periods (day, week, month, quarter) are cut in this UTC offset; China has one zone and no DST. */
        utcOffsetMinutes: z.number().int().min(-720).max(840),
      })
      .strict(),
    /** 视频质量诊断 (issue 16): picture diagnosis sweeps, thresholds per network, alerts; 完好率 snapshots. */
    quality: qualitySchema,
    /** Leaders' reports (issue 16): the PDF's font, which must hold Chinese glyphs. */
    reports: z
      .object({
        /** A TTF/OTF/TTC font file with CJK glyphs; null: PDF reports answer 503. */
        pdfFont: z.string().min(1).nullable(),
        /** The face inside a TTC collection (its PostScript name); null for a single-face file. */
        pdfFontFace: z.string().min(1).nullable(),
      })
      .strict(),
    /** 录像回放 (issue 14): the recorder's disk, quota, playback and download limits, alert evidence clips. */
    recording: z
      .object({
        /** Record the points record plans name (needs ffmpeg). */
        enabled: z.boolean(),
        /**
         * Who writes the segments of RTSP points: 'native' (in the server, from the source proxy's packets: no
         * process and no loopback socket per point) or 'ffmpeg' (a copying ffmpeg per point). Other sources
         * always use ffmpeg. Both write the same files.
         */
        engine: z.enum(['native', 'ffmpeg']),
        /** Where segments and clips live (a disk, not RAM); relative to the project root. */
        dir: z.string().min(1),
        /** Target segment length (cut at the next keyframe). */
        segmentSeconds: z.number().int().min(1).max(60),
        /** Bytes recordings may use; the oldest segments go first when it is reached. */
        quotaGb: z.number().positive().max(1_000_000),
        /** Share of the quota (or of the disk's free-space margin) at which the state turns to warning. */
        warnPercent: z.number().int().min(50).max(99),
        /** Below this much free disk, recording stops cleanly with a reason an admin sees. */
        minFreeMb: z.number().int().min(0),
        /** Longest range a span list or a playback may cover. */
        maxRangeHours: z
          .number()
          .int()
          .min(1)
          .max(24 * 31),
        /** Longest MP4 download, and its size cap. */
        maxExportMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60),
        maxExportMb: z.number().int().min(1),
        /** Evidence clip of an alert: seconds before and after it, per level. */
        clipBeforeSeconds: z
          .object({
            blue: z.number().int().min(0).max(600),
            yellow: z.number().int().min(0).max(600),
            orange: z.number().int().min(0).max(600),
            red: z.number().int().min(0).max(600),
          })
          .strict(),
        clipAfterSeconds: z
          .object({
            blue: z.number().int().min(0).max(600),
            yellow: z.number().int().min(0).max(600),
            orange: z.number().int().min(0).max(600),
            red: z.number().int().min(0).max(600),
          })
          .strict(),
        /** Seconds between plan, clip and retention passes. */
        checkSeconds: z.number().int().min(1).max(3600),
      })
      .strict(),
  })
  .strict();

export type AppConfig = z.infer<typeof configSchema>;
