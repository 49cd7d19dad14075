import { Modal, type ModalProps } from "@mantine/core";

/**
 * A dialog whose content is mounted only while it is open, so a form inside starts again from
 * its initial values (and without the last attempt's errors) every time it opens.
 */
export function FormModal({ opened, children, ...modal }: ModalProps) {
  return (
    <Modal opened={opened} {...modal}>
      {opened && children}
    </Modal>
  );
}
