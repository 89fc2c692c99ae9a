# mail.mk -- sanitizer/mail/, mail 無害化: the MIME rebuild (tiergate-sanitize --mail), tiergate-milter, their tests and fuzz target.
MIME_SRCS := sanitizer/mail/mime_buf.c sanitizer/mail/mime_codec.c sanitizer/mail/mime_words.c
MIME_OBJS := $(MIME_SRCS:%.c=$(BUILD)/%.o)
MAIL_CORE_SRCS := $(MIME_SRCS) sanitizer/mail/mime_walk.c sanitizer/mail/mail.c sanitizer/mail/mail_part.c \
	sanitizer/mail/notice.c sanitizer/mail/milter_conf.c sanitizer/reltoken.c
MAIL_CORE_OBJS := $(MAIL_CORE_SRCS:%.c=$(BUILD)/%.o)
MAIL_OBJS := $(MAIL_CORE_OBJS) $(BUILD)/sanitizer/mail/mail_cli.o
MILTER_SRCS := sanitizer/mail/milter.c sanitizer/mail/milter_msg.c sanitizer/mail/milter_worker.c \
	sanitizer/mail/milter_zygote.c sanitizer/mail/milter_child.c sanitizer/mail/milter_memfd.c \
	sanitizer/mail/milter_wire.c sanitizer/mail/milter_parse.c sanitizer/mail/milter_check.c
MILTER_OBJS := $(MILTER_SRCS:%.c=$(BUILD)/%.o)
# The test build (build/t/tiergate-milter-test): the parser obeys X-Tiergate-Test-Hook. Only
# milter_parse.c differs (compiled again with TIERGATE_TEST_HOOKS) plus the hooks themselves;
# bin/tiergate-milter holds neither (the suite checks with nm).
MILTER_TEST_OBJS := $(filter-out $(BUILD)/sanitizer/mail/milter_parse.o,$(MILTER_OBJS)) \
	$(BUILD)/t/obj/milter_parse.o $(BUILD)/t/obj/milter_test_hooks.o
$(BUILD)/t/obj/%.o: sanitizer/mail/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -DTIERGATE_TEST_HOOKS -MMD -MP -c -o $@ $<
$(BUILD)/t/obj/milter_parse.o $(BUILD)/t/obj/milter_test_hooks.o: \
	EXTRA_CFLAGS = $(call PKG,--cflags gmime-3.0 milter)
UNIT_TESTS += $(BUILD)/t/tiergate-milter-test
$(BUILD)/t/tiergate-milter-test: $(MILTER_TEST_OBJS) $(MAIL_OBJS) $(SAN_CORE_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $(tiergate-milter_LIBS)
MAIL_LIBS = $(call PKG,--libs gmime-3.0)

$(MAIL_OBJS) $(MILTER_OBJS) $(BUILD)/tests/unit/test_mail.o $(BUILD)/tests/fuzz/fuzz_mime.o: \
	EXTRA_CFLAGS = $(call PKG,--cflags gmime-3.0 milter)

BINS += $(BIN)/tiergate-milter
# tiergate-sanitize --mail execs the milter, whose main hands it to mail_cli.o (sanitizer/cli.h)
$(BIN)/tiergate-milter: $(MILTER_OBJS) $(MAIL_OBJS) $(SAN_CORE_OBJS) $(LIB_OBJS)
tiergate-milter_LIBS = $(SAN_LIBS) $(MAIL_LIBS) $(call PKG,--libs milter) $(LIB_LIBS) -pthread

UNIT_TESTS += $(BUILD)/t/test_mail
$(BUILD)/t/test_mail: $(BUILD)/tests/unit/test_mail.o $(MAIL_CORE_OBJS) $(BUILD)/sanitizer/mail/milter_msg.o \
	$(BUILD)/sanitizer/mail/milter_check.o $(BUILD)/sanitizer/mail/milter_wire.o \
	$(SAN_CORE_OBJS) $(LIB_OBJS)
test_mail_LIBS = $(SAN_LIBS) $(MAIL_LIBS) $(LIB_LIBS)

FUZZERS += mime milter_check
fuzz_mime_OBJS = $(MAIL_CORE_OBJS) $(BUILD)/sanitizer/mail/milter_check.o $(SAN_CORE_OBJS) $(LIB_OBJS)
fuzz_mime_LIBS = $(SAN_LIBS) $(MAIL_LIBS) $(LIB_LIBS)
fuzz_milter_check_OBJS = $(BUILD)/sanitizer/mail/milter_check.o $(BUILD)/sanitizer/mail/milter_wire.o $(LIB_OBJS)
fuzz_milter_check_LIBS = $(LIB_LIBS)
