# lib.mk -- lib/: what two or more parts share (log, JSON events, config, addresses, files).
LIB_SRCS := lib/log.c lib/event.c lib/conf.c lib/util.c lib/addr.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_LIBS  = $(call PKG,--libs libconfig)
