# sanitizer.mk -- the file sanitizer: core objects (shared with the milter), CLI, spool daemon, quarantine tool.
SAN_CORE_SRCS := sanitizer/charset.c sanitizer/config.c sanitizer/sanitize.c sanitizer/result.c \
	sanitizer/wire.c sanitizer/sandbox.c sanitizer/detect.c sanitizer/dispatch.c \
	sanitizer/pdfscan.c sanitizer/pdfwrite.c sanitizer/imgenc.c sanitizer/flatten.c sanitizer/inflate.c sanitizer/dctdecode.c \
	sanitizer/pool.c sanitizer/pages.c sanitizer/arena.c sanitizer/build.c \
	sanitizer/office.c sanitizer/office_links.c sanitizer/html.c sanitizer/textbuf.c sanitizer/archive.c sanitizer/zipwrite.c sanitizer/tarball.c sanitizer/tarread.c \
	sanitizer/report.c sanitizer/uniqname.c sanitizer/cleanres.c sanitizer/csvsafe.c \
	sanitizer/quarantine.c sanitizer/lo_conv.c sanitizer/lo_pool.c sanitizer/lo_render.c \
	sanitizer/lo_chan.c sanitizer/lo_service.c sanitizer/imgdecode.c sanitizer/heifde265.c sanitizer/heifload.c sanitizer/lo_pdftext.c
SAN_CORE_OBJS := $(SAN_CORE_SRCS:%.c=$(BUILD)/%.o)

# libmupdf-dev ships static libraries with a wrong .pc file: the list from PLATFORM.md.
# libdeflate: sanitizer/inflate.c replaces MuPDF's Flate decoder (it must link before -lmupdf).
SAN_MUPDF_LIBS = -ldeflate -lmupdf -lmupdf-third -lmujs -lgumbo -lopenjp2 -ljbig2dec -ljpeg -lfreetype -lharfbuzz -lz -lm
# libheif and libde265 are not linked: heifload.c opens them when an input may hold a HEIF image
# (linked, they and libx265/libaom/libdav1d cost every process ~3 ms of start).
SAN_LIBS = $(SAN_MUPDF_LIBS) $(call PKG,--libs libqpdf libzip libxml-2.0 libseccomp libcrypto libpng libwebp) \
	-lmagic -ljpeg -lz -lm -lstdc++

$(BUILD)/sanitizer/%.o: EXTRA_CFLAGS = $(call PKG,--cflags libxml-2.0 libzip libqpdf libheif libwebp libde265)

# The converter sandbox's driver, fontconfig table and LibreOffice profile, compiled in as C strings:
# bwrap copies them into the sandbox, so no install path is trusted at run time.
LO_EMBED = sanitizer/lo_driver.py conf/office/fonts.conf conf/office/registrymodifications.xcu
$(BUILD)/sanitizer/lo_embed.h: $(LO_EMBED) sanitizer/sanitizer.mk
	@mkdir -p $(@D)
	{ for f in LO_DRIVER_PY:sanitizer/lo_driver.py LO_FONTS_CONF:conf/office/fonts.conf \
	    LO_REGISTRY_XCU:conf/office/registrymodifications.xcu; do \
	  printf '#define %s \\\n' "$${f%%:*}"; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n" \\/' "$${f#*:}"; echo '""'; done; } >$@.tmp && mv $@.tmp $@
$(BUILD)/sanitizer/lo_conv.o: $(BUILD)/sanitizer/lo_embed.h
$(BUILD)/sanitizer/lo_conv.o: EXTRA_CFLAGS = -I$(BUILD)/sanitizer

BINS += $(BIN)/tiergate-sanitize $(BIN)/tiergate-spoold $(BIN)/tiergate-quarantine

$(BIN)/tiergate-sanitize: $(BUILD)/sanitizer/main_sanitize.o $(SAN_CORE_OBJS) $(LIB_OBJS)
tiergate-sanitize_LIBS += $(SAN_LIBS) $(LIB_LIBS)

$(BIN)/tiergate-spoold: $(BUILD)/sanitizer/main_spoold.o $(BUILD)/sanitizer/spool.o $(BUILD)/sanitizer/reltoken.o $(SAN_CORE_OBJS) $(LIB_OBJS)
tiergate-spoold_LIBS = $(SAN_LIBS) $(LIB_LIBS)

# The quarantine tool parses nothing hostile: it links only the store, not the renderers.
$(BIN)/tiergate-quarantine: $(BUILD)/sanitizer/main_quarantine.o $(BUILD)/sanitizer/quarantine.o \
	$(BUILD)/sanitizer/config.o $(LIB_OBJS)
tiergate-quarantine_LIBS = $(call PKG,--libs libcrypto) $(LIB_LIBS)

UNIT_TESTS += $(BUILD)/t/test_san_charset
$(BUILD)/t/test_san_charset: $(BUILD)/tests/unit/test_san_charset.o $(BUILD)/sanitizer/charset.o

FUZZERS += charset
fuzz_charset_OBJS = $(BUILD)/sanitizer/charset.o

UNIT_TESTS += $(BUILD)/t/test_san_core
$(BUILD)/t/test_san_core: $(BUILD)/tests/unit/test_san_core.o $(SAN_CORE_OBJS) $(LIB_OBJS)
test_san_core_LIBS = $(SAN_LIBS) $(LIB_LIBS)

FUZZERS += office pdfscan
fuzz_office_OBJS = $(BUILD)/sanitizer/office.o $(BUILD)/sanitizer/office_links.o $(BUILD)/sanitizer/textbuf.o $(BUILD)/sanitizer/config.o $(LIB_OBJS)
fuzz_office_LIBS = $(call PKG,--libs libzip libxml-2.0) $(LIB_LIBS)
fuzz_pdfscan_OBJS = $(BUILD)/sanitizer/pdfscan.o $(BUILD)/sanitizer/result.o $(LIB_OBJS)
fuzz_pdfscan_LIBS = $(call PKG,--libs libqpdf libcrypto) -lstdc++ $(LIB_LIBS)
$(BUILD)/tests/fuzz/fuzz_office.o $(BUILD)/tests/fuzz/fuzz_pdfscan.o: EXTRA_CFLAGS = $(call PKG,--cflags libxml-2.0 libzip libqpdf)

UNIT_TESTS += $(BUILD)/t/test_san_tar
$(BUILD)/t/test_san_tar: $(BUILD)/tests/unit/test_san_tar.o $(SAN_CORE_OBJS) $(LIB_OBJS)
test_san_tar_LIBS = $(SAN_LIBS) $(LIB_LIBS)

FUZZERS += tar
fuzz_tar_OBJS = $(BUILD)/sanitizer/tarread.o $(LIB_OBJS)
fuzz_tar_LIBS = -lz $(LIB_LIBS)

# inflate.c against zlib: the replacement Flate decoder must give what streaming zlib gives
FUZZERS += inflate
fuzz_inflate_OBJS = $(BUILD)/sanitizer/inflate.o
fuzz_inflate_LIBS = $(SAN_MUPDF_LIBS) -lstdc++

# What the parent reads from a worker (the worker is as hostile as its input), and the HTML-to-text converter.
FUZZERS += wire html
fuzz_wire_OBJS = $(SAN_CORE_OBJS) $(LIB_OBJS)
fuzz_wire_LIBS = $(SAN_LIBS) $(LIB_LIBS)
fuzz_html_OBJS = $(BUILD)/sanitizer/html.o $(BUILD)/sanitizer/textbuf.o $(BUILD)/sanitizer/charset.o $(LIB_OBJS)
fuzz_html_LIBS = $(call PKG,--libs libxml-2.0) $(LIB_LIBS)
$(BUILD)/tests/fuzz/fuzz_wire.o $(BUILD)/tests/fuzz/fuzz_html.o: EXTRA_CFLAGS = $(call PKG,--cflags libxml-2.0 libzip libqpdf)

# Forged worker answers (tests/unit/san_forge.c, TIERGATE_FORGE=mode): a second build of sanitize.c with
# the forge hook, linked only into this test binary. 50-san-forge checks that the production
# binaries hold no trace of it (nm, strings).
$(BUILD)/forge/sanitize.o: sanitizer/sanitize.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call PKG,--cflags libxml-2.0 libzip libqpdf) -DTIERGATE_TEST_FORGE -MMD -MP -c -o $@ $<
SAN_FORGE_OBJS := $(filter-out $(BUILD)/sanitizer/sanitize.o,$(SAN_CORE_OBJS)) $(BUILD)/forge/sanitize.o \
	$(BUILD)/tests/unit/san_forge.o
UNIT_TESTS += $(BUILD)/t/tiergate-sanitize-forge
$(BUILD)/t/tiergate-sanitize-forge: $(BUILD)/sanitizer/main_sanitize.o $(SAN_FORGE_OBJS) $(LIB_OBJS)
tiergate-sanitize-forge_LIBS = $(SAN_LIBS) $(LIB_LIBS)

# The spool claim race (tests/suites/53-san-spool-race.sh): a renameat2(RENAME_EXCHANGE) swapper.
UNIT_TESTS += $(BUILD)/t/swaprace
$(BUILD)/t/swaprace: $(BUILD)/tests/sanitizer/swaprace.o

# csvsafe.c (formula cells) and uniqname.c (name collisions): unit cases and the CSV fuzz target.
UNIT_TESTS += $(BUILD)/t/test_san_textsafe
$(BUILD)/t/test_san_textsafe: $(BUILD)/tests/unit/test_san_textsafe.o $(BUILD)/sanitizer/csvsafe.o \
	$(BUILD)/sanitizer/uniqname.o $(LIB_OBJS)
test_san_textsafe_LIBS = $(LIB_LIBS)
FUZZERS += csvsafe
fuzz_csvsafe_OBJS = $(BUILD)/sanitizer/csvsafe.o $(LIB_OBJS)
fuzz_csvsafe_LIBS = $(LIB_LIBS)

# The parent's reading of the office converter's reply and its sniff of office bytes (lo_pool.c, lo_conv.c).
FUZZERS += lo
fuzz_lo_OBJS = $(BUILD)/sanitizer/lo_conv.o $(BUILD)/sanitizer/lo_pool.o $(BUILD)/sanitizer/sandbox.o \
	$(BUILD)/sanitizer/lo_chan.o $(BUILD)/sanitizer/lo_service.o \
	$(BUILD)/sanitizer/config.o $(LIB_OBJS)
fuzz_lo_LIBS = $(call PKG,--libs libseccomp) $(LIB_LIBS)
# The worker's HEIC/HEIF and WebP decoders (imgdecode.c, heifde265.c).
FUZZERS += imgdecode
fuzz_imgdecode_OBJS = $(SAN_CORE_OBJS) $(LIB_OBJS)
fuzz_imgdecode_LIBS = $(SAN_LIBS) $(LIB_LIBS)
$(BUILD)/tests/fuzz/fuzz_imgdecode.o: EXTRA_CFLAGS = $(call PKG,--cflags libxml-2.0 libzip libqpdf)
# Both readers of the conversion channel (lo_chan.c): a worker's requests, the converter's answer.
FUZZERS += lo_chan
fuzz_lo_chan_OBJS = $(fuzz_lo_OBJS)
fuzz_lo_chan_LIBS = $(fuzz_lo_LIBS)
