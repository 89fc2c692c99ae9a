/* milter_memfd.c -- reading a whole memfd (message, result, report, envelope) that another process wrote. */
#include "sanitizer/mail/milter_memfd.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int
milter_memfd_read(int fd, char **data, size_t *len)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	*data = malloc((size_t)st.st_size + 1);
	if (*data == NULL)
		return -1;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(*data)[got] = '\0';
	*len = got;
	return 0;
}
