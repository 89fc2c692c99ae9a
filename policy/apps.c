/* apps.c -- application names: nDPI 4.2's protocol names and the policy's own app table. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "policy/internal.h"

/*
 * The protocol names nDPI 4.2 reports (ndpiReader -a 0 of libndpi-bin 4.2-2),
 * sorted case-insensitively. Kept here so that policy/ warns about a typo such
 * as "HTTPS" or "FTP" without linking nDPI: the gateway, not the admin tool,
 * runs the classifier.
 */
static const char *const ndpi42_names[] = {
	"AccuWeather", "Activision", "AFP", "Aimini", "AJP", "Alibaba", "Amazon", "AmazonAlexa",
	"AmazonAWS", "AmazonVideo", "AmongUs", "AMQP", "AnyDesk", "Apple", "AppleiCloud",
	"AppleiTunes", "AppleJuice", "ApplePush", "AppleSiri", "AppleStore", "Armagetron",
	"AVASTSecureDNS", "Ayiya", "Azure", "Badoo", "BGP", "BitTorrent", "BJNP", "Bloomberg",
	"CAPWAP", "Cassandra", "CHECKMK", "CiscoSkinny", "CiscoVPN", "Citrix", "Cloudflare",
	"CNN", "COAP", "Collectd", "Corba", "CPHA", "Crashlytics", "Crossfire", "CSGO",
	"DataSaver", "DCE_RPC", "Deezer", "DHCP", "DHCPV6", "Diameter", "Direct_Download_Link",
	"DirectConnect", "Discord", "DisneyPlus", "DNP3", "DNS", "DNScrypt", "Dofus", "DoH_DoT",
	"DRDA", "Dropbox", "DTLS", "EAQ", "eBay", "eDonkey", "EGP", "EthernetIP", "Facebook",
	"FacebookVoip", "FastTrack", "Fiesta", "FIX", "Florensia", "FortiClient", "FREE_64",
	"FTP_CONTROL", "FTP_DATA", "Fuze", "GenshinImpact", "Git", "Github", "GitLab", "GMail",
	"Gnutella", "Google", "GoogleClassroom", "GoogleDocs", "GoogleDrive", "GoogleHangoutDuo",
	"GoogleMaps", "GooglePlus", "GoogleServices", "GRE", "GTP", "GTP_C", "GTP_PRIME", "GTP_U",
	"Guildwars", "H323", "HalfLife2", "Hotmail", "HotspotShield", "HP_VIRTGRP", "HTTP",
	"HTTP_Connect", "HTTP_Proxy", "Hulu", "IAX", "IceCast", "iCloudPrivateRelay", "ICMP",
	"ICMPV6", "IEC60870", "IFLIX", "IGMP", "IMAP", "IMAPS", "IMO", "Instagram", "IP_in_IP",
	"IPP", "IPsec", "IRC", "Jabber", "KakaoTalk", "KakaoTalk_Voice", "Kerberos", "Kontiki",
	"LastFM", "LDAP", "Likee", "LinkedIn", "LISP", "LLMNR", "LotusNotes", "MapleStory",
	"MDNS", "Megaco", "Memcached", "Messenger", "MGCP", "Microsoft", "Microsoft365", "Mining",
	"Modbus", "MongoDB", "MPEG_TS", "MQTT", "MS_OneDrive", "MsSQL-TDS", "MySQL", "Nats",
	"NestLogSink", "NetBIOS", "NetFlix", "NetFlow", "NFS", "Nintendo", "NOE", "ntop", "NTP",
	"OCS", "OCSP", "Ookla", "OpenDNS", "OpenFT", "OpenVPN", "Oracle", "OSPF", "Pandora",
	"Pastebin", "Pinterest", "Playstation", "PlayStore", "POP3", "POPS", "PostgreSQL",
	"PPStream", "PPTP", "QQ", "QQLive", "QUIC", "Radius", "RDP", "Reddit", "Redis",
	"RemoteScan", "RSYNC", "RTCP", "RTMP", "RTP", "RTSP", "RX", "s7comm", "Salesforce", "SAP",
	"SCTP", "sFlow", "ShoutCast", "Signal", "SignalVoip", "Sina(Weibo)", "SIP", "Skype_Teams",
	"SkypeCall", "Slack", "SMBv1", "SMBv23", "SMPP", "SMTP", "SMTPS", "Snapchat",
	"SnapchatCall", "SNMP", "SOAP", "SOCKS", "SOMEIP", "Sopcast", "SoundCloud", "Spotify",
	"SSDP", "SSH", "Starcraft", "Stealthnet", "Steam", "STUN", "Syslog", "TargusDataspeed",
	"Teams", "TeamSpeak", "TeamViewer", "Telegram", "Telnet", "Teredo", "TFTP", "Thunder",
	"TikTok", "TINC", "TLS", "Tor", "TruPhone", "Tuenti", "Tumblr", "TVUplayer", "Twitch",
	"Twitter", "UBNTAC2", "UbuntuONE", "Unknown", "Usenet", "Vevo", "VHUA", "Viber", "Vimeo",
	"VMware", "VNC", "VRRP", "Warcraft3", "Waze", "Webex", "WebSocket", "WeChat", "WhatsApp",
	"WhatsAppCall", "WhatsAppFiles", "Whois-DAS", "Wikipedia", "WindowsUpdate", "WireGuard",
	"WorldOfKungFu", "WorldOfWarcraft", "WSD", "Xbox", "XDMCP", "Yahoo", "YouTube",
	"YouTubeUpload", "Z39.50", "Zabbix", "Zattoo", "ZeroMQ", "Zoom",
};

static int
apps_cmp_name(const void *key, const void *elem)
{
	return strcasecmp(key, *(const char *const *)elem);
}

/* The nDPI spelling of name ("tls" -> "TLS"), or NULL when nDPI 4.2 has no such protocol. */
const char *
apps_ndpi_canonical(const char *name)
{
	const char *const *hit = bsearch(name, ndpi42_names, ARRAY_LEN(ndpi42_names),
	    sizeof ndpi42_names[0], apps_cmp_name);

	return hit ? *hit : NULL;
}

bool
apps_ndpi_known(const char *name)
{
	return apps_ndpi_canonical(name) != NULL;
}

/* Adds name to the policy's table (once, case-insensitively) and returns its id. */
int
apps_intern(struct policy *p, const char *name)
{
	for (int i = 0; i < p->napps; i++)
		if (strcasecmp(p->apps[i], name) == 0)
			return i;
	p->apps = xrealloc(p->apps, (size_t)p->napps + 1, sizeof *p->apps);
	p->apps[p->napps] = xstrdup(name);
	return p->napps++;
}

static int
apps_cmp_ptr(const void *a, const void *b)
{
	return strcasecmp(**(char *const *const *)a, **(char *const *const *)b);
}

static int
apps_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Sorts the table for bsearch and renumbers every rule's app ids to match. */
void
apps_finish(struct policy *p)
{
	char ***order = xcalloc((size_t)p->napps + 1, sizeof *order);
	char **sorted = xcalloc((size_t)p->napps + 1, sizeof *sorted);
	int *new_id = xcalloc((size_t)p->napps + 1, sizeof *new_id);

	for (int i = 0; i < p->napps; i++)
		order[i] = &p->apps[i];
	qsort(order, (size_t)p->napps, sizeof *order, apps_cmp_ptr);
	for (int i = 0; i < p->napps; i++) {
		new_id[order[i] - p->apps] = i;
		sorted[i] = *order[i];
	}
	for (int r = 0; r < p->nrules; r++) {
		struct prule *rule = &p->rules[r];
		for (int k = 0; k < rule->napps; k++)
			rule->apps[k] = new_id[rule->apps[k]];
		qsort(rule->apps, (size_t)rule->napps, sizeof *rule->apps, apps_cmp_int);
	}
	free(p->apps);
	p->apps = sorted;
	free(order);
	free(new_id);
}

static int
apps_cmp_key(const void *key, const void *elem)
{
	return strcasecmp(key, *(char *const *)elem);
}

int
apps_find(const struct policy *p, const char *name)
{
	char *const *hit;

	if (p->napps == 0)
		return -1;
	hit = bsearch(name, p->apps, (size_t)p->napps, sizeof *p->apps, apps_cmp_key);
	return hit ? (int)(hit - p->apps) : -1;
}

/*
 * nDPI names a flow "MASTER.APP" when it knows both ("TLS.YouTube",
 * "DNS.Google"). A rule naming either part matches: ids[0] is the whole
 * name, ids[1] and ids[2] the parts. Returns how many ids were filled.
 */
int
apps_resolve(const struct policy *p, const char *name, int ids[3])
{
	const char *dot = strchr(name, '.');
	char master[64];
	int n = 0, id;

	if ((id = apps_find(p, name)) >= 0)
		ids[n++] = id;
	if (dot == NULL || (size_t)(dot - name) >= sizeof master)
		return n;
	memcpy(master, name, (size_t)(dot - name));
	master[dot - name] = '\0';
	if ((id = apps_find(p, master)) >= 0)
		ids[n++] = id;
	if ((id = apps_find(p, dot + 1)) >= 0)
		ids[n++] = id;
	return n;
}
