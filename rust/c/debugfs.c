// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect's debugfs files.
 *
 * The files are created here, in C, because their file_operations must
 * carry .owner = THIS_MODULE: an open file then pins the module, so unload
 * can never free code that a later read or release would call. (The Rust
 * debugfs abstraction in 7.3 leaves .owner NULL, and debugfs calls the real
 * release unconditionally after removal.) What the files show and do is the
 * Rust side's, reached through registration.c. Files are created last at
 * load, and open only once the module is live.
 */
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "kintrospect.h"

static struct dentry *kintrospect_root;

static int kintrospect_seq_show(struct seq_file *m, void *v)
{
	return kintrospect_file_show((u32)(unsigned long)m->private, m);
}

/*
 * Opens only once the module is live. While it is still coming, an open
 * would succeed (try_module_get() refuses only a module that is going), and
 * if init then failed the module would be freed under the open file, whose
 * release calls into it (full_proxy_release()): no file may be open when
 * init can still fail. Only an open for reading gets a seq_file: a write
 * (a control command) then costs no allocation, and finds the file's id in
 * the inode.
 */
static int kintrospect_open(struct inode *inode, struct file *file)
{
	if (READ_ONCE(THIS_MODULE->state) != MODULE_STATE_LIVE)
		return -EAGAIN;
	if (!(file->f_mode & FMODE_READ))
		return 0;
	return single_open(file, kintrospect_seq_show, inode->i_private);
}

static ssize_t kintrospect_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	char buf[KINTROSPECT_MAX_WRITE];
	size_t copied = min(len, sizeof(buf));
	int ret;

	if (copy_from_user(buf, ubuf, copied))
		return -EFAULT;
	ret = kintrospect_file_write((u32)(unsigned long)file_inode(file)->i_private,
				     buf, copied, len);
	return ret ? ret : len;
}

static loff_t kintrospect_llseek(struct file *file, loff_t offset, int whence)
{
	if (!file->private_data)
		return noop_llseek(file, offset, whence);
	return seq_lseek(file, offset, whence);
}

static int kintrospect_release(struct inode *inode, struct file *file)
{
	if (!file->private_data)
		return 0;
	return single_release(inode, file);
}

static const struct file_operations kintrospect_fops = {
	.owner = THIS_MODULE,
	.open = kintrospect_open,
	.read = seq_read,
	.llseek = kintrospect_llseek,
	.write = kintrospect_write,
	.release = kintrospect_release,
};

/**
 * kintrospect_debugfs_create() - create /sys/kernel/debug/kintrospect/
 * @files: the files to create, @nr of them; a name "dir/file" goes into
 *	subdirectory "dir", which must have been listed before as "dir/"
 * @nr: number of @files
 *
 * Return: 0 or a negative errno.
 */
int kintrospect_debugfs_create(const struct kintrospect_file_spec *files,
			       u32 nr)
{
	struct dentry *dirs[4], *parent, *d;
	const char *name, *slash;
	u32 i, nr_dirs = 0;

	kintrospect_root = debugfs_create_dir("kintrospect", NULL);
	if (IS_ERR(kintrospect_root))
		return PTR_ERR(kintrospect_root);

	for (i = 0; i < nr; i++) {
		name = files[i].name;
		slash = strchr(name, '/');
		parent = kintrospect_root;
		if (slash && !slash[1]) {
			/* "dir/": a subdirectory for the names that follow. */
			char dname[32];

			if (nr_dirs == ARRAY_SIZE(dirs) ||
			    slash - name >= sizeof(dname))
				goto err;
			strscpy(dname, name, slash - name + 1);
			d = debugfs_create_dir(dname, kintrospect_root);
			if (IS_ERR(d))
				goto err;
			dirs[nr_dirs++] = d;
			continue;
		}
		if (slash) {
			/* "dir/file": in the last subdirectory created. */
			if (!nr_dirs)
				goto err;
			parent = dirs[nr_dirs - 1];
			name = slash + 1;
		}
		d = debugfs_create_file(name, files[i].mode, parent,
					(void *)(unsigned long)files[i].id,
					&kintrospect_fops);
		if (IS_ERR(d))
			goto err;
	}
	return 0;
err:
	kintrospect_debugfs_remove();
	return -ENOMEM;
}

/* Removes every file; waits for reads and writes in progress to return. */
void kintrospect_debugfs_remove(void)
{
	debugfs_remove(kintrospect_root);
	kintrospect_root = NULL;
}
