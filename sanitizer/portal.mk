# portal.mk -- tiergate-portal (the 原本 release portal: HTTPS, evhttp + OpenSSL), its form parser's fuzz target.
PORTAL_PKGS = libevent_openssl libevent openssl
PORTAL_SRCS := sanitizer/main_portal.c sanitizer/portal_http.c sanitizer/portal_conf.c sanitizer/portal_auth.c \
	sanitizer/portal_pages.c sanitizer/portal_admin.c sanitizer/portal_client.c sanitizer/portal_html.c \
	sanitizer/portal_form.c
PORTAL_OBJS := $(PORTAL_SRCS:%.c=$(BUILD)/%.o)
$(PORTAL_OBJS): EXTRA_CFLAGS = $(call PKG,--cflags $(PORTAL_PKGS))

BINS += $(BIN)/tiergate-portal
# the portal links no quarantine code: it reaches the originals only through the release socket
# and holds no approver's password hash or TOTP secret: tiergate-quarantined checks logins
$(BIN)/tiergate-portal: $(PORTAL_OBJS) $(LIB_OBJS)
tiergate-portal_LIBS = $(call PKG,--libs $(PORTAL_PKGS)) $(LIB_LIBS)

FUZZERS += portal_form
fuzz_portal_form_OBJS = $(BUILD)/sanitizer/portal_form.o
