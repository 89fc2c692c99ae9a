/* fuzz_html.c -- libFuzzer target: the HTML-to-text converter (sanitizer/html.c: meta charset, libxml2 parse, walk) on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "sanitizer/internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HTML_MAX_TEXT (256u << 10)

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xmlInitParser();   /* as san_ctx_new does before any worker */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL;
	size_t text_len = 0;

	if (size > (1u << 20))
		return 0;
	if (html_to_text(data, size, FUZZ_HTML_MAX_TEXT, &text, &text_len, NULL) == 0) {
		/* the length is the text's, the text ends there, and the limit held (+ the closing newline) */
		if (text == NULL || text[text_len] != '\0' || strlen(text) > text_len ||
		    text_len > FUZZ_HTML_MAX_TEXT + 1)
			abort();
		free(text);
	}
	return 0;
}
