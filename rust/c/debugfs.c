// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect's debugfs files.
 *
 * The files are created here, in C, because their file_operations must
 * carry .owner = THIS_MODULE: an open file then pins the module, so unload
 * can never free code that a later read or release would call. (The Rust
 * debugfs abstraction in 7.3 leaves .owner NULL, and debugfs calls the real
 * release unconditionally after removal.) What the files show and do is the
 * Rust side's, reached through registration.c, except for the test/
 * directory, whose files testpath.c serves itself (struct kintrospect_c_file)
 * through the same open rules. Files are created last at load, and open only
 * once the module is live.
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

static int kintrospect_c_seq_show(struct seq_file *m, void *v)
{
	const struct kintrospect_c_file *file = m->private;

	/* Root may open a write-only file for reading: as the others, EINVAL. */
	return file->show ? file->show(m) : -EINVAL;
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
static int kintrospect_open_with(struct inode *inode, struct file *file,
				 int (*show)(struct seq_file *, void *))
{
	if (READ_ONCE(THIS_MODULE->state) != MODULE_STATE_LIVE)
		return -EAGAIN;
	if (!(file->f_mode & FMODE_READ))
		return 0;
	return single_open(file, show, inode->i_private);
}

static int kintrospect_open(struct inode *inode, struct file *file)
{
	return kintrospect_open_with(inode, file, kintrospect_seq_show);
}

static int kintrospect_c_open(struct inode *inode, struct file *file)
{
	return kintrospect_open_with(inode, file, kintrospect_c_seq_show);
}

/*
 * A write hands the first KINTROSPECT_MAX_WRITE bytes and the whole length
 * to @write, with the file's inode data.
 */
static ssize_t kintrospect_write_with(struct file *file, const char __user *ubuf,
				      size_t len,
				      int (*write)(void *data, const char *buf,
						   size_t copied, size_t len))
{
	char buf[KINTROSPECT_MAX_WRITE];
	size_t copied = min(len, sizeof(buf));
	int ret;

	if (copy_from_user(buf, ubuf, copied))
		return -EFAULT;
	ret = write(file_inode(file)->i_private, buf, copied, len);
	return ret ? ret : len;
}

static int kintrospect_rust_write(void *data, const char *buf, size_t copied,
				  size_t len)
{
	return kintrospect_file_write((u32)(unsigned long)data, buf, copied, len);
}

static int kintrospect_c_write(void *data, const char *buf, size_t copied,
			       size_t len)
{
	const struct kintrospect_c_file *file = data;

	return file->write ? file->write(buf, copied, len) : -EINVAL;
}

static ssize_t kintrospect_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	return kintrospect_write_with(file, ubuf, len, kintrospect_rust_write);
}

static ssize_t kintrospect_c_file_write(struct file *file,
					const char __user *ubuf, size_t len,
					loff_t *ppos)
{
	return kintrospect_write_with(file, ubuf, len, kintrospect_c_write);
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

static const struct file_operations kintrospect_c_fops = {
	.owner = THIS_MODULE,
	.open = kintrospect_c_open,
	.read = seq_read,
	.llseek = kintrospect_llseek,
	.write = kintrospect_c_file_write,
	.release = kintrospect_release,
};

/**
 * kintrospect_debugfs_create() - create /sys/kernel/debug/kintrospect/
 * @files: the files to create, @nr of them
 * @nr: number of @files
 *
 * Then the test paths' files, with test_paths=1 (kintrospect_test_create()).
 *
 * Return: 0 or a negative errno.
 */
int kintrospect_debugfs_create(const struct kintrospect_file_spec *files,
			       u32 nr)
{
	struct dentry *d;
	u32 i;
	int ret;

	kintrospect_root = debugfs_create_dir("kintrospect", NULL);
	if (IS_ERR(kintrospect_root))
		return PTR_ERR(kintrospect_root);

	for (i = 0; i < nr; i++) {
		d = debugfs_create_file(files[i].name, files[i].mode,
					kintrospect_root,
					(void *)(unsigned long)files[i].id,
					&kintrospect_fops);
		if (IS_ERR(d)) {
			ret = -ENOMEM;
			goto err;
		}
	}
	ret = kintrospect_test_create();
	if (ret)
		goto err;
	return 0;
err:
	kintrospect_debugfs_remove();
	return ret;
}

/**
 * kintrospect_debugfs_c_dir() - create a subdirectory of files served in C
 * @name: the subdirectory's name
 * @files: its files, @nr of them; they must stay valid until
 *	kintrospect_debugfs_remove()
 * @nr: number of @files
 *
 * Each file is opened by the rules of the others (it pins the module, opens
 * only once the module is live) and reaches its @files entry's show or write.
 *
 * Return: 0 or -ENOMEM.
 */
int kintrospect_debugfs_c_dir(const char *name,
			      const struct kintrospect_c_file *files, u32 nr)
{
	struct dentry *dir, *d;
	umode_t mode;
	u32 i;

	dir = debugfs_create_dir(name, kintrospect_root);
	if (IS_ERR(dir))
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		mode = (files[i].show ? 0400 : 0) | (files[i].write ? 0200 : 0);
		d = debugfs_create_file(files[i].name, mode, dir,
					(void *)&files[i], &kintrospect_c_fops);
		if (IS_ERR(d))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Removes every file; waits for reads and writes in progress to return.
 * Then frees what the test paths kept.
 */
void kintrospect_debugfs_remove(void)
{
	debugfs_remove(kintrospect_root);
	kintrospect_root = NULL;
	kintrospect_test_remove();
}
