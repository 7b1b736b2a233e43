#!/usr/bin/python3
"""An RTSP server no one on the team wrote: GStreamer's gst-rtsp-server, for tests.

    gst-rtsp-server.py HOST WIDTHxHEIGHT [--udp-only] [--user U --password P]

Serves live H.264 (videotestsrc, 10 fps, one keyframe a second) at rtsp://HOST:<port>/cam. With
--udp-only the media factory allows UDP unicast only: a client asking for TCP interleaved gets
461 Unsupported Transport, as cameras that offer RTSP over UDP only do (issue 12). With --user and
--password it demands Basic authentication. Prints the bound port on stdout, then serves until
killed (SIGTERM) or its stdin closes.
"""
import argparse
import sys
import threading

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtsp', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('host')
ap.add_argument('size')
ap.add_argument('--udp-only', action='store_true')
ap.add_argument('--user')
ap.add_argument('--password')
a = ap.parse_args()
if not a.host.startswith('127.'):
    sys.exit('tests stay on loopback')
width, height = (int(x) for x in a.size.split('x'))

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address(a.host)
server.set_service('0')
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    f'( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate=10/1 '
    '! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=300 '
    '! rtph264pay name=pay0 pt=96 config-interval=1 )'
)
factory.set_shared(True)
if a.udp_only:
    factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP)
if a.user:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, 'viewer')
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password), token)
    server.set_auth(auth)
    perms = GstRtspServer.RTSPPermissions()
    perms.add_role_empty('viewer')
    perms.add_permission_for_role('viewer', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    perms.add_permission_for_role('viewer', GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(perms)
server.get_mount_points().add_factory('/cam', factory)
server.attach(None)
print(server.get_bound_port(), flush=True)

loop = GLib.MainLoop()


def watch_stdin():
    # The test's end closes our stdin: never outlive it.
    sys.stdin.read()
    GLib.idle_add(loop.quit)


threading.Thread(target=watch_stdin, daemon=True).start()
loop.run()
