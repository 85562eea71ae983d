/* Files in a preopened directory `data`: reads data/input.txt, writes
 * its lines reversed to data/out/reversed.txt, renames, appends, seeks,
 * lists the directory sorted, and removes what it made. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void) {
    FILE *in = fopen("data/input.txt", "r");
    if (!in) {
        printf("open input: %s\n", strerror(errno));
        return 1;
    }
    char lines[64][256];
    int n = 0;
    while (n < 64 && fgets(lines[n], sizeof lines[n], in)) {
        n++;
    }
    fclose(in);
    if (mkdir("data/out", 0755) != 0) {
        printf("mkdir: %s\n", strerror(errno));
        return 1;
    }
    FILE *out = fopen("data/out/tmp.txt", "w");
    for (int i = n - 1; i >= 0; i--) {
        fputs(lines[i], out);
    }
    fclose(out);
    if (rename("data/out/tmp.txt", "data/out/reversed.txt") != 0) {
        printf("rename: %s\n", strerror(errno));
        return 1;
    }
    out = fopen("data/out/reversed.txt", "a");
    fprintf(out, "appended %d lines\n", n);
    fclose(out);
    struct stat st;
    stat("data/out/reversed.txt", &st);
    printf("reversed.txt: %lld bytes\n", (long long)st.st_size);
    FILE *back = fopen("data/out/reversed.txt", "r");
    fseek(back, -9, SEEK_END);
    char tail[16] = {0};
    fread(tail, 1, 8, back);
    printf("tail: %s\n", tail);
    rewind(back);
    char first[256];
    fgets(first, sizeof first, back);
    printf("first: %s", first);
    fclose(back);
    printf("missing: %s\n", fopen("data/nope.txt", "r") ? "found" : strerror(errno));
    DIR *dir = opendir("data");
    char *names[64];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && count < 64) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            names[count++] = strdup(e->d_name);
        }
    }
    closedir(dir);
    qsort(names, count, sizeof *names, by_name);
    for (int i = 0; i < count; i++) {
        printf("entry: %s\n", names[i]);
        free(names[i]);
    }
    unlink("data/out/reversed.txt");
    rmdir("data/out");
    printf("after cleanup: %s\n", access("data/out", F_OK) == 0 ? "still there" : "gone");
    return 0;
}
