/**
 * ONVIF response bodies (Profile S subset) for one simulated camera. Pure functions of the camera's
 * description and the device clock; shaped after Hikvision/Dahua replies that clients in the field parse.
 */
import type { SimEventMessage } from './events.ts';
import type { PtzPreset, PtzState } from './ptz.ts';
import type { SimCameraInfo, SimStreamName, SimStreamProfile } from './types.ts';
import { NS, esc, isoSeconds } from './xml.ts';

export const PROFILE_TOKENS: Record<SimStreamName, string> = { main: 'Profile_1', sub: 'Profile_2' };
export const streamOfToken = (token: string | undefined): SimStreamName | undefined =>
  token === PROFILE_TOKENS.main ? 'main' : token === PROFILE_TOKENS.sub ? 'sub' : undefined;

const SPACE = {
  ptPos: 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace',
  zPos: 'http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace',
  ptVel: 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace',
  zVel: 'http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace',
  ptTrans: 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace',
  zTrans: 'http://www.onvif.org/ver10/tptz/ZoomSpaces/TranslationGenericSpace',
  ptSpeed: 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/GenericSpeedSpace',
  zSpeed: 'http://www.onvif.org/ver10/tptz/ZoomSpaces/ZoomGenericSpeedSpace',
};

/** Scopes shared by GetScopes and WS-Discovery. */
export function scopesOf(c: SimCameraInfo): string[] {
  const s = [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/type/Network_Video_Transmitter',
    'onvif://www.onvif.org/Profile/Streaming',
    `onvif://www.onvif.org/hardware/${encodeURIComponent(c.model)}`,
    `onvif://www.onvif.org/name/${c.code}`,
    'onvif://www.onvif.org/location/country/china',
    `onvif://www.onvif.org/location/county/${c.code.slice(0, 6)}`,
    `onvif://www.onvif.org/manufacturer/${encodeURIComponent(c.manufacturer)}`,
  ];
  if (c.ptz) s.splice(1, 0, 'onvif://www.onvif.org/type/ptz');
  if (c.replayServiceUrl) s.splice(3, 0, 'onvif://www.onvif.org/Profile/G');
  return s;
}

function dateTimeXml(ms: number): string {
  const d = new Date(ms);
  return (
    `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>`
  );
}

// ---------------------------------------------------------------- device

export function systemDateAndTime(c: SimCameraInfo, deviceNowMs: number): string {
  return (
    `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>` +
    `<tt:DateTimeType>${c.clockOffsetSec === 0 ? 'NTP' : 'Manual'}</tt:DateTimeType>` +
    `<tt:DaylightSavings>false</tt:DaylightSavings>` +
    // China Standard Time, POSIX style as Hikvision prints it.
    `<tt:TimeZone><tt:TZ>CST-8:00:00</tt:TZ></tt:TimeZone>` +
    `<tt:UTCDateTime>${dateTimeXml(deviceNowMs)}</tt:UTCDateTime>` +
    `<tt:LocalDateTime>${dateTimeXml(deviceNowMs + 8 * 3600_000)}</tt:LocalDateTime>` +
    `</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
  );
}

export function deviceInformation(c: SimCameraInfo): string {
  return (
    `<tds:GetDeviceInformationResponse>` +
    `<tds:Manufacturer>${esc(c.manufacturer)}</tds:Manufacturer><tds:Model>${esc(c.model)}</tds:Model>` +
    `<tds:FirmwareVersion>${esc(c.firmware)}</tds:FirmwareVersion><tds:SerialNumber>${esc(c.serial)}</tds:SerialNumber>` +
    `<tds:HardwareId>88</tds:HardwareId></tds:GetDeviceInformationResponse>`
  );
}

const deviceCaps = (c: SimCameraInfo) =>
  `<tt:Device><tt:XAddr>${esc(c.deviceServiceUrl)}</tt:XAddr>` +
  `<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration><tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>` +
  `<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye><tt:RemoteDiscovery>false</tt:RemoteDiscovery>` +
  `<tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>` +
  `<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions></tt:System>` +
  `<tt:IO><tt:InputConnectors>0</tt:InputConnectors><tt:RelayOutputs>0</tt:RelayOutputs></tt:IO>` +
  `<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2><tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration>` +
  `<tt:AccessPolicyConfig>false</tt:AccessPolicyConfig><tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken>` +
  `<tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken></tt:Security></tt:Device>`;
const eventsCaps = (c: SimCameraInfo) =>
  `<tt:Events><tt:XAddr>${esc(c.eventsServiceUrl)}</tt:XAddr><tt:WSSubscriptionPolicySupport>true</tt:WSSubscriptionPolicySupport>` +
  `<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>`;
const mediaCaps = (c: SimCameraInfo) =>
  `<tt:Media><tt:XAddr>${esc(c.mediaServiceUrl)}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
  `<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities>` +
  `<tt:Extension><tt:ProfileCapabilities><tt:MaximumNumberOfProfiles>2</tt:MaximumNumberOfProfiles></tt:ProfileCapabilities></tt:Extension></tt:Media>`;
const ptzCaps = (c: SimCameraInfo) =>
  c.ptzServiceUrl ? `<tt:PTZ><tt:XAddr>${esc(c.ptzServiceUrl)}</tt:XAddr></tt:PTZ>` : '';
/** Domes have a motorised lens: focus and iris through the imaging service, beside the device service. */
export const imagingServiceUrl = (c: SimCameraInfo) => c.deviceServiceUrl.replace(/device_service$/, 'imaging_service');
/** Profile G (GetCapabilities keeps them under Extension, as Core 8.1.2.1 adds them). */
const profileGCaps = (c: SimCameraInfo) =>
  c.recordingServiceUrl && c.searchServiceUrl && c.replayServiceUrl
    ? `<tt:Extension><tt:Recording><tt:XAddr>${esc(c.recordingServiceUrl)}</tt:XAddr><tt:ReceiverSource>false</tt:ReceiverSource>` +
      `<tt:MediaProfileSource>true</tt:MediaProfileSource><tt:DynamicRecordings>false</tt:DynamicRecordings>` +
      `<tt:DynamicTracks>false</tt:DynamicTracks><tt:MaxStringLength>64</tt:MaxStringLength></tt:Recording>` +
      `<tt:Search><tt:XAddr>${esc(c.searchServiceUrl)}</tt:XAddr><tt:MetadataSearch>false</tt:MetadataSearch></tt:Search>` +
      `<tt:Replay><tt:XAddr>${esc(c.replayServiceUrl)}</tt:XAddr></tt:Replay></tt:Extension>`
    : '';
const imagingCaps = (c: SimCameraInfo) =>
  c.ptzServiceUrl ? `<tt:Imaging><tt:XAddr>${esc(imagingServiceUrl(c))}</tt:XAddr></tt:Imaging>` : '';

/** GetCapabilities; `category` as requested (All, Device, Events, Media, PTZ). Undefined: no such capability. */
export function capabilities(c: SimCameraInfo, categories: string[]): string | undefined {
  const want = new Set(categories.length ? categories : ['All']);
  const all = want.has('All');
  let x = '';
  if (all || want.has('Device')) x += deviceCaps(c);
  if (all || want.has('Events')) x += eventsCaps(c);
  if (all || want.has('Media')) x += mediaCaps(c);
  if (all || want.has('PTZ')) x += ptzCaps(c);
  if (all || want.has('Imaging')) x += imagingCaps(c);
  if (all) x += profileGCaps(c);
  if (!x) return undefined;
  return `<tds:GetCapabilitiesResponse><tds:Capabilities>${x}</tds:Capabilities></tds:GetCapabilitiesResponse>`;
}

const deviceServiceCaps =
  `<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false" NTP="1" HostnameFromDHCP="false"/>` +
  `<tds:Security TLS1.0="false" TLS1.1="false" TLS1.2="false" OnboardKeyGeneration="false" AccessPolicyConfig="false" DefaultAccessPolicy="false" ` +
  `Dot1X="false" RemoteUserHandling="false" X.509Token="false" SAMLToken="false" KerberosToken="false" UsernameToken="true" HttpDigest="false" RELToken="false"/>` +
  `<tds:System DiscoveryResolve="false" DiscoveryBye="true" RemoteDiscovery="false" SystemBackup="false" SystemLogging="false" FirmwareUpgrade="false" ` +
  `HttpFirmwareUpgrade="false" HttpSystemBackup="false" HttpSystemLogging="false" HttpSupportInformation="false"/></tds:Capabilities>`;
const mediaServiceCaps =
  `<trt:Capabilities SnapshotUri="true" Rotation="false" VideoSourceMode="false" OSD="false">` +
  `<trt:ProfileCapabilities MaximumNumberOfProfiles="2"/><trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true" NonAggregateControl="false"/></trt:Capabilities>`;
const eventServiceCaps = `<tev:Capabilities WSSubscriptionPolicySupport="true" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="10" MaxPullPoints="10" PersistentNotificationStorage="false"/>`;
const ptzServiceCaps = `<tptz:Capabilities EFlip="false" Reverse="false" GetCompatibleConfigurations="false" MoveStatus="true" StatusPosition="true"/>`;

const recordingServiceCaps = `<trc:Capabilities DynamicRecordings="false" DynamicTracks="false" Encoding="H264" MaxRate="8192" MaxTotalRate="8192" MaxRecordings="1" MaxRecordingJobs="1" Options="false" MetadataRecording="false"/>`;
const searchServiceCaps = `<tse:Capabilities MetadataSearch="false" GeneralStartEvents="false"/>`;
/** Replay: no reverse play, sessions time out after a minute without a keep-alive. */
const replayServiceCaps = `<trp:Capabilities ReversePlayback="false" SessionTimeoutRange="10 60" RTP_RTSP_TCP="true"/>`;

export const serviceCapabilities = {
  recording: () => `<trc:GetServiceCapabilitiesResponse>${recordingServiceCaps}</trc:GetServiceCapabilitiesResponse>`,
  search: () => `<tse:GetServiceCapabilitiesResponse>${searchServiceCaps}</tse:GetServiceCapabilitiesResponse>`,
  replay: () => `<trp:GetServiceCapabilitiesResponse>${replayServiceCaps}</trp:GetServiceCapabilitiesResponse>`,
  device: () => `<tds:GetServiceCapabilitiesResponse>${deviceServiceCaps}</tds:GetServiceCapabilitiesResponse>`,
  media: () => `<trt:GetServiceCapabilitiesResponse>${mediaServiceCaps}</trt:GetServiceCapabilitiesResponse>`,
  events: () => `<tev:GetServiceCapabilitiesResponse>${eventServiceCaps}</tev:GetServiceCapabilitiesResponse>`,
  ptz: () => `<tptz:GetServiceCapabilitiesResponse>${ptzServiceCaps}</tptz:GetServiceCapabilitiesResponse>`,
};

export function services(c: SimCameraInfo, includeCapability: boolean): string {
  const svc = (ns: string, url: string, caps: string, major: number, minor: number) =>
    `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${esc(url)}</tds:XAddr>` +
    (includeCapability ? `<tds:Capabilities>${caps}</tds:Capabilities>` : '') +
    `<tds:Version><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
  let x =
    svc(NS.tds, c.deviceServiceUrl, deviceServiceCaps, 2, 60) +
    svc(NS.trt, c.mediaServiceUrl, mediaServiceCaps, 2, 60) +
    svc(NS.tev, c.eventsServiceUrl, eventServiceCaps, 2, 60);
  if (c.ptzServiceUrl) x += svc(NS.tptz, c.ptzServiceUrl, ptzServiceCaps, 2, 50);
  if (c.recordingServiceUrl) x += svc(NS.trc, c.recordingServiceUrl, recordingServiceCaps, 2, 50);
  if (c.searchServiceUrl) x += svc(NS.tse, c.searchServiceUrl, searchServiceCaps, 2, 42);
  if (c.replayServiceUrl) x += svc(NS.trp, c.replayServiceUrl, replayServiceCaps, 2, 21);
  return `<tds:GetServicesResponse>${x}</tds:GetServicesResponse>`;
}

export function networkInterfaces(c: SimCameraInfo): string {
  return (
    `<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0"><tt:Enabled>true</tt:Enabled>` +
    `<tt:Info><tt:Name>eth0</tt:Name><tt:HwAddress>${esc(c.mac)}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>` +
    `<tt:Link><tt:AdminSettings><tt:AutoNegotiation>true</tt:AutoNegotiation><tt:Speed>100</tt:Speed><tt:Duplex>Full</tt:Duplex></tt:AdminSettings>` +
    `<tt:OperSettings><tt:AutoNegotiation>true</tt:AutoNegotiation><tt:Speed>100</tt:Speed><tt:Duplex>Full</tt:Duplex></tt:OperSettings>` +
    `<tt:InterfaceType>0</tt:InterfaceType></tt:Link>` +
    `<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config><tt:Manual><tt:Address>${c.host}</tt:Address><tt:PrefixLength>8</tt:PrefixLength></tt:Manual>` +
    `<tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4></tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>`
  );
}

export function scopes(c: SimCameraInfo): string {
  const items = scopesOf(c)
    .map((s) => {
      const def = s.includes('/name/') || s.includes('/location/') ? 'Configurable' : 'Fixed';
      return `<tds:Scopes><tt:ScopeDef>${def}</tt:ScopeDef><tt:ScopeItem>${esc(s)}</tt:ScopeItem></tds:Scopes>`;
    })
    .join('');
  return `<tds:GetScopesResponse>${items}</tds:GetScopesResponse>`;
}

export function hostname(c: SimCameraInfo): string {
  return `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>IPC-${c.code.slice(-6)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`;
}

// ---------------------------------------------------------------- media

const videoSourceConfig = (c: SimCameraInfo) => {
  const m = c.resolvedStreams.main;
  return (
    `<tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${m.width}" height="${m.height}"/>`
  );
};

function encoderConfig(stream: SimStreamName, p: SimStreamProfile, kfSec: number): string {
  const gopFrames = Math.max(1, Math.round(p.fps * kfSec));
  return (
    `<tt:Name>VideoEncoder_${stream === 'main' ? 1 : 2}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
    `<tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
    `<tt:Quality>3</tt:Quality><tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit>` +
    `<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${p.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
    `<tt:H264><tt:GovLength>${gopFrames}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
    `<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>` +
    `<tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>` +
    `<tt:SessionTimeout>PT60S</tt:SessionTimeout>`
  );
}

const ptzConfig = () =>
  `<tt:PTZConfiguration token="PTZToken"><tt:Name>PTZ</tt:Name><tt:UseCount>2</tt:UseCount><tt:NodeToken>PTZNODETOKEN</tt:NodeToken>` +
  `<tt:DefaultAbsolutePantTiltPositionSpace>${SPACE.ptPos}</tt:DefaultAbsolutePantTiltPositionSpace>` +
  `<tt:DefaultAbsoluteZoomPositionSpace>${SPACE.zPos}</tt:DefaultAbsoluteZoomPositionSpace>` +
  `<tt:DefaultRelativePanTiltTranslationSpace>${SPACE.ptTrans}</tt:DefaultRelativePanTiltTranslationSpace>` +
  `<tt:DefaultRelativeZoomTranslationSpace>${SPACE.zTrans}</tt:DefaultRelativeZoomTranslationSpace>` +
  `<tt:DefaultContinuousPanTiltVelocitySpace>${SPACE.ptVel}</tt:DefaultContinuousPanTiltVelocitySpace>` +
  `<tt:DefaultContinuousZoomVelocitySpace>${SPACE.zVel}</tt:DefaultContinuousZoomVelocitySpace>` +
  `<tt:DefaultPTZSpeed><tt:PanTilt x="0.5" y="0.5" space="${SPACE.ptSpeed}"/><tt:Zoom x="0.5" space="${SPACE.zSpeed}"/></tt:DefaultPTZSpeed>` +
  `<tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout>` +
  `<tt:PanTiltLimits><tt:Range><tt:URI>${SPACE.ptPos}</tt:URI><tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange>` +
  `<tt:YRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:YRange></tt:Range></tt:PanTiltLimits>` +
  `<tt:ZoomLimits><tt:Range><tt:URI>${SPACE.zPos}</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:Range></tt:ZoomLimits>` +
  `</tt:PTZConfiguration>`;

export function profileXml(c: SimCameraInfo, stream: SimStreamName, kfSec: number, tag: string): string {
  const p = c.resolvedStreams[stream];
  return (
    `<${tag} token="${PROFILE_TOKENS[stream]}" fixed="true"><tt:Name>${stream === 'main' ? 'mainStream' : 'subStream'}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="VideoSourceToken">${videoSourceConfig(c)}</tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="VideoEncoderToken_${stream === 'main' ? 1 : 2}">${encoderConfig(stream, p, kfSec)}</tt:VideoEncoderConfiguration>` +
    (c.ptz ? ptzConfig() : '') +
    `</${tag}>`
  );
}

export function profiles(c: SimCameraInfo, kfSec: number): string {
  return (
    `<trt:GetProfilesResponse>${profileXml(c, 'main', kfSec, 'trt:Profiles')}` +
    `${profileXml(c, 'sub', kfSec, 'trt:Profiles')}</trt:GetProfilesResponse>`
  );
}

export function profile(c: SimCameraInfo, stream: SimStreamName, kfSec: number): string {
  return `<trt:GetProfileResponse>${profileXml(c, stream, kfSec, 'trt:Profile')}</trt:GetProfileResponse>`;
}

export function videoSources(c: SimCameraInfo): string {
  const m = c.resolvedStreams.main;
  return (
    `<trt:GetVideoSourcesResponse><trt:VideoSources token="VideoSource_1"><tt:Framerate>${m.fps}</tt:Framerate>` +
    `<tt:Resolution><tt:Width>${m.width}</tt:Width><tt:Height>${m.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`
  );
}

export function videoSourceConfigurations(c: SimCameraInfo): string {
  return `<trt:GetVideoSourceConfigurationsResponse><trt:Configurations token="VideoSourceToken">${videoSourceConfig(c)}</trt:Configurations></trt:GetVideoSourceConfigurationsResponse>`;
}

export function videoEncoderConfigurations(c: SimCameraInfo, kfSec: number): string {
  const one = (s: SimStreamName) =>
    `<trt:Configurations token="VideoEncoderToken_${s === 'main' ? 1 : 2}">${encoderConfig(s, c.resolvedStreams[s], kfSec)}</trt:Configurations>`;
  return `<trt:GetVideoEncoderConfigurationsResponse>${one('main')}${one('sub')}</trt:GetVideoEncoderConfigurationsResponse>`;
}

export function videoEncoderConfiguration(c: SimCameraInfo, stream: SimStreamName, kfSec: number): string {
  return (
    `<trt:GetVideoEncoderConfigurationResponse><trt:Configuration token="VideoEncoderToken_${stream === 'main' ? 1 : 2}">` +
    `${encoderConfig(stream, c.resolvedStreams[stream], kfSec)}</trt:Configuration></trt:GetVideoEncoderConfigurationResponse>`
  );
}

export function mediaUri(tag: 'GetStreamUriResponse' | 'GetSnapshotUriResponse', uri: string): string {
  return (
    `<trt:${tag}><trt:MediaUri><tt:Uri>${esc(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>` +
    `<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout></trt:MediaUri></trt:${tag}>`
  );
}

// ---------------------------------------------------------------- PTZ

const positionXml = (tag: string, p: { pan: number; tilt: number; zoom: number }) =>
  `<${tag}><tt:PanTilt x="${p.pan.toFixed(6)}" y="${p.tilt.toFixed(6)}" space="${SPACE.ptPos}"/>` +
  `<tt:Zoom x="${p.zoom.toFixed(6)}" space="${SPACE.zPos}"/></${tag}>`;

export function ptzStatus(ptz: PtzState, nowMs: number, deviceNowMs: number): string {
  const s = ptz.status(nowMs);
  return (
    `<tptz:GetStatusResponse><tptz:PTZStatus>${positionXml('tt:Position', s)}` +
    `<tt:MoveStatus><tt:PanTilt>${s.movingPanTilt ? 'MOVING' : 'IDLE'}</tt:PanTilt><tt:Zoom>${s.movingZoom ? 'MOVING' : 'IDLE'}</tt:Zoom></tt:MoveStatus>` +
    `<tt:UtcTime>${isoSeconds(deviceNowMs)}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`
  );
}

export function ptzPresets(presets: Iterable<PtzPreset>): string {
  let x = '';
  for (const p of presets) {
    x += `<tptz:Preset token="${esc(p.token)}"><tt:Name>${esc(p.name)}</tt:Name>${positionXml('tt:PTZPosition', p)}</tptz:Preset>`;
  }
  return `<tptz:GetPresetsResponse>${x}</tptz:GetPresetsResponse>`;
}

export function ptzNodes(): string {
  return (
    `<tptz:GetNodesResponse><tptz:PTZNode token="PTZNODETOKEN" FixedHomePosition="false"><tt:Name>PTZNODE</tt:Name>` +
    `<tt:SupportedPTZSpaces>` +
    `<tt:AbsolutePanTiltPositionSpace><tt:URI>${SPACE.ptPos}</tt:URI><tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange><tt:YRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:YRange></tt:AbsolutePanTiltPositionSpace>` +
    `<tt:AbsoluteZoomPositionSpace><tt:URI>${SPACE.zPos}</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:AbsoluteZoomPositionSpace>` +
    `<tt:ContinuousPanTiltVelocitySpace><tt:URI>${SPACE.ptVel}</tt:URI><tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange><tt:YRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:YRange></tt:ContinuousPanTiltVelocitySpace>` +
    `<tt:ContinuousZoomVelocitySpace><tt:URI>${SPACE.zVel}</tt:URI><tt:XRange><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:ContinuousZoomVelocitySpace>` +
    `</tt:SupportedPTZSpaces><tt:MaximumNumberOfPresets>255</tt:MaximumNumberOfPresets><tt:HomeSupported>true</tt:HomeSupported></tptz:PTZNode></tptz:GetNodesResponse>`
  );
}

export function ptzConfigurations(): string {
  return `<tptz:GetConfigurationsResponse>${ptzConfig().replace(/tt:PTZConfiguration/g, 'tptz:PTZConfiguration')}</tptz:GetConfigurationsResponse>`;
}

// ---------------------------------------------------------------- events

export function eventProperties(): string {
  const desc =
    `<tt:MessageDescription IsProperty="true"><tt:Source><tt:SimpleItemDescription Name="Source" Type="tt:ReferenceToken"/></tt:Source>` +
    `<tt:Data><tt:SimpleItemDescription Name="State" Type="xsd:boolean"/></tt:Data></tt:MessageDescription>`;
  return (
    `<tev:GetEventPropertiesResponse>` +
    `<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>` +
    `<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>` +
    `<wstop:TopicSet><tns1:VideoSource wstop:topic="false"><MotionAlarm wstop:topic="true">${desc}</MotionAlarm>` +
    `<GlobalSceneChange wstop:topic="false"><ImagingService wstop:topic="true">${desc}</ImagingService></GlobalSceneChange>` +
    `</tns1:VideoSource></wstop:TopicSet>` +
    `<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</wsnt:TopicExpressionDialect>` +
    `<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect>` +
    `<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>` +
    `<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>` +
    `</tev:GetEventPropertiesResponse>`
  );
}

export function createPullPointResponse(address: string, deviceNowMs: number, deviceExpiresMs: number): string {
  return (
    `<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference><wsa:Address>${esc(address)}</wsa:Address></tev:SubscriptionReference>` +
    `<wsnt:CurrentTime>${isoSeconds(deviceNowMs)}</wsnt:CurrentTime><wsnt:TerminationTime>${isoSeconds(deviceExpiresMs)}</wsnt:TerminationTime>` +
    `</tev:CreatePullPointSubscriptionResponse>`
  );
}

export function notificationMessage(m: SimEventMessage, clockOffsetMs: number, address: string): string {
  return (
    `<wsnt:NotificationMessage><wsnt:SubscriptionReference><wsa:Address>${esc(address)}</wsa:Address></wsnt:SubscriptionReference>` +
    `<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${m.topic}</wsnt:Topic>` +
    `<wsnt:Message><tt:Message UtcTime="${isoSeconds(m.atMs + clockOffsetMs)}" PropertyOperation="${m.operation}">` +
    `<tt:Source><tt:SimpleItem Name="Source" Value="VideoSource_1"/></tt:Source>` +
    `<tt:Data><tt:SimpleItem Name="State" Value="${m.state}"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`
  );
}

export function pullMessagesResponse(msgs: string, deviceNowMs: number, deviceExpiresMs: number): string {
  return (
    `<tev:PullMessagesResponse><tev:CurrentTime>${isoSeconds(deviceNowMs)}</tev:CurrentTime>` +
    `<tev:TerminationTime>${isoSeconds(deviceExpiresMs)}</tev:TerminationTime>${msgs}</tev:PullMessagesResponse>`
  );
}

export function renewResponse(deviceNowMs: number, deviceExpiresMs: number): string {
  return (
    `<wsnt:RenewResponse><wsnt:TerminationTime>${isoSeconds(deviceExpiresMs)}</wsnt:TerminationTime>` +
    `<wsnt:CurrentTime>${isoSeconds(deviceNowMs)}</wsnt:CurrentTime></wsnt:RenewResponse>`
  );
}
