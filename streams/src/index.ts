/**
 * The media plane: ffmpeg supervision, HLS output and RTMP ingest.
 * It starts empty; the relay issue fills it. It must never import server code.
 */
export const STREAMS_PLANE_VERSION = 0;
